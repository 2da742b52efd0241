"""The notebooks run top to bottom, as `make test` promises (nbmake's check, in-process).

Each notebook in `notebooks/` is executed on a copy in a temporary directory
by nbclient (the engine behind nbmake and `jupyter execute`), in a kernel on
this interpreter with the TensorFlow backend, 600 s per cell at most. A cell
that raises fails the test, and the report shows the cell and its traceback.
The executed copy is thrown away. The committed notebooks are read on the code
host without being run, so `test_committed_with_outputs` checks that they
carry the outputs of one clean run. To refresh them after a change:

    .venv/bin/jupyter execute --inplace notebooks/NAME.ipynb
"""

import os
import pathlib
import shutil

import nbclient
import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 600
REFRESH = "refresh it with `.venv/bin/jupyter execute --inplace notebooks/{name}`"


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebook found in {REPO / 'notebooks'}"


@pytest.mark.tensorflow_only  # tf.data pipelines, tf.signal, GradientTape
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    # The kernel runs in tmp_path: make the project importable there even without the editable install.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",  # jupyter_client starts it with sys.executable: this interpreter
        resources={"metadata": {"path": str(tmp_path)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} fails when run top to bottom:\n{error}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as error:
        pytest.fail(f"{path.name}: a cell ran longer than {CELL_TIMEOUT_S} s:\n{error}", pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_with_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    cells = _code_cells(notebook)
    counts = [cell.execution_count for cell in cells]
    hint = REFRESH.format(name=path.name)
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name} was not saved from one clean run top to bottom (execution counts {counts}); {hint}"
    )
    errors = [output for cell in cells for output in cell.outputs if output.output_type == "error"]
    assert not errors, f"{path.name} was saved with an error output: {errors[0].get('ename')}; {hint}"
    plots = [output for cell in cells for output in cell.outputs if "image/png" in output.get("data", {})]
    assert plots, f"{path.name} has no plot among its outputs; {hint}"

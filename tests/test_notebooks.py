"""The notebooks run top to bottom, as `make test` promises (nbmake's check, in-process).

Each notebook in `notebooks/` is executed on a copy in a temporary directory
by nbclient (the engine behind nbmake and `jupyter execute`), in a kernel on
this interpreter with the TensorFlow backend, 600 s per cell at most. A cell
that raises fails the test, and the report shows the cell and its traceback.
The executed copy is thrown away. The committed notebooks are read on the code
host without being run, so `test_committed_with_outputs` checks that they
carry the outputs of one clean run, and `test_results_shown_are_current` that
every table or plot a notebook shows from `results/` is still byte for byte
what that file holds. To refresh them after a change:

    make notebooks
"""

import base64
import os
import pathlib
import re
import shutil

import nbclient
import nbformat
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 600
REFRESH = "refresh it with `make notebooks`"
RESULTS_TAG = "results_file"  # set by chapter_helpers.show_results_file on each output it displays


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
    # chapter_helpers.py sits beside the notebooks: put notebooks/ on the path too.
    paths = [str(REPO), str(REPO / "notebooks"), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
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


def _results_outputs(notebook):
    """(cell index, path, output) for every output tagged as showing a file of results/."""
    return [(index, output.metadata[RESULTS_TAG], output)
            for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for output in cell.outputs
            if output.output_type == "display_data" and RESULTS_TAG in output.get("metadata", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_results_shown_are_current(path):
    """A table or plot shown from results/ equals the file on disk (Markdown text, PNG bytes)."""
    notebook = nbformat.read(path, as_version=4)
    hint = REFRESH.format(name=path.name)
    for index, relative, output in _results_outputs(notebook):
        file = REPO / relative
        assert file.exists(), f"{path.name}, cell {index}: shows {relative}, which is no longer there; {hint}"
        if file.suffix == ".md":
            shown = output.data.get("text/markdown")
            assert shown == file.read_text(encoding="utf-8"), (
                f"{path.name}, cell {index}: the table shown differs from {relative}; {hint}")
        else:
            shown = base64.b64decode(output.data.get("image/png", ""))
            assert shown == file.read_bytes(), (
                f"{path.name}, cell {index}: the plot shown differs from {relative}; {hint}")


def test_results_files_are_shown_from_disk():
    """Every results/ file a notebook's code names is displayed through the tagged path (so it is checked)."""
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        shown = {relative for _, relative, _ in _results_outputs(notebook)}
        named = {match for cell in _code_cells(notebook)
                 for match in re.findall(r"results/[\w./-]+\.(?:md|png)", cell.source)}
        assert named <= shown, f"{path.name} names {sorted(named - shown)} without showing them with show_results_file"

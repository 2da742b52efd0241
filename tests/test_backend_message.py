"""With no usable Keras backend, `import constrained_layers` fails with one line naming the extras.

The child process hides the backends' modules with a `sys.meta_path` finder
that refuses them (as if they were not installed) and points `KERAS_HOME` at
an empty folder, so that Keras would fall back to its default, TensorFlow.
"""

import os
import subprocess
import sys

import pytest

from constrained_layers import _backend

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HIDE = """
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {hidden!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Hide())
import constrained_layers
"""


def _import_without(hidden, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    environ.update(KERAS_HOME=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", HIDE.format(hidden=set(hidden))],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=120,
    )


def test_no_backend_is_one_line_naming_the_extras(tmp_path):
    done = _import_without(("tensorflow", "jax", "torch"), tmp_path)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: constrained_layers needs a Keras backend: Keras would use 'tensorflow'")
    for extra in ("[jax]", "[tensorflow]", "[torch]"):
        assert extra in last
    assert "keras/src" not in done.stderr and "site-packages/keras" not in done.stderr  # no traceback into Keras


def test_the_message_names_the_installed_backends_and_keras_json(tmp_path):
    (tmp_path / "keras.json").write_text('{"backend": "jax"}')
    done = _import_without(("jax",), tmp_path)
    last = done.stderr.strip().splitlines()[-1]
    assert f"Keras would use 'jax' (from {tmp_path / 'keras.json'})" in last
    installed = [b for b in _backend.installed_backends() if b != "jax"]
    assert f"set KERAS_BACKEND to one that is installed ({', '.join(installed)})" in last


@pytest.mark.parametrize("backend", ("tensorflow", "jax", "torch"))
def test_an_installed_backend_imports(backend, tmp_path):
    if backend not in _backend.installed_backends():
        pytest.skip(f"{backend} is not installed")
    done = _import_without((), tmp_path, KERAS_BACKEND=backend)
    assert done.returncode == 0, done.stderr[-2000:]


def test_chosen_backend_reads_the_environment_then_keras_json(tmp_path):
    assert _backend.chosen_backend({"KERAS_BACKEND": "torch", "KERAS_HOME": str(tmp_path)}) == ("torch", "KERAS_BACKEND")
    (tmp_path / "keras.json").write_text('{"backend": "jax", "floatx": "float32"}')
    assert _backend.chosen_backend({"KERAS_HOME": str(tmp_path)}) == ("jax", str(tmp_path / "keras.json"))
    (tmp_path / "keras.json").write_text("not json")
    assert _backend.chosen_backend({"KERAS_HOME": str(tmp_path)})[0] == "tensorflow"

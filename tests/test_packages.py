"""Packages that are what they say: one name each, and nothing global changed by importing them.

Every check runs in a fresh interpreter, from the repository's root, as a
user's `python -c` or `python -m` would.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 600

#: Imports every module of every package of the project, and reports what changed.
IMPORT_EVERYTHING = r"""
import importlib, json, os, pkgutil, sys

# What the dependencies change themselves (TensorFlow sets environment variables, absl adds a finder)
# is theirs: they are imported first, and only what importing the project changes after that counts.
for dependency in ("numpy", "keras", "tensorflow", "tensorflow_datasets", "matplotlib.pyplot", "PIL.Image",
                   "sklearn.datasets", "mnist1d", "h5py"):
    importlib.import_module(dependency)
meta_path, stderr, environ = list(sys.meta_path), sys.stderr, dict(os.environ)
fd2 = os.fstat(2)
imported = []
for package in ("constrained_layers", "constrained_zoo", "constrained_zoo.models", "constrained_zoo.training"):
    module = importlib.import_module(package)
    imported.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
            imported.append(info.name)
files = {}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if path and os.path.realpath(path).startswith(tuple(os.path.join(sys.argv[1], p) + os.sep for p in
                                                        ("constrained_layers", "constrained_zoo", "models", "training"))):
        files.setdefault(os.path.realpath(path), []).append(name)
after = os.fstat(2)
print(json.dumps({
    "imported": imported,
    "meta_path_added": [repr(f) for f in sys.meta_path if f not in meta_path],
    "meta_path_same": sys.meta_path == meta_path,
    "stderr_same": sys.stderr is stderr and (fd2.st_dev, fd2.st_ino) == (after.st_dev, after.st_ino),
    "environ_changed": sorted(k for k in set(environ) | set(os.environ) if environ.get(k) != os.environ.get(k)),
    "twice": {path: names for path, names in files.items() if len(names) > 1},
}))
"""


#: In a fresh interpreter, records who mutates sys.meta_path, file descriptor 2 or os.environ while the
#: project is imported: the innermost caller outside the standard library, so TensorFlow's own changes
#: are TensorFlow's even when the project's `import keras` started them.
SPY = r"""
import importlib, inspect, json, os, sys, sysconfig

STDLIB = (sysconfig.get_paths()["stdlib"], "<frozen")
ours = tuple(os.path.join(sys.argv[1], p) + os.sep for p in ("constrained_layers", "constrained_zoo", "models", "training"))
changes = []

def record(what):
    for frame in inspect.stack()[2:]:
        if not frame.filename.startswith(STDLIB) and frame.filename != "<string>":
            if os.path.realpath(frame.filename).startswith(ours):
                changes.append((what, frame.filename, frame.lineno))
            return

class MetaPath(list):
    def insert(self, *a): record("sys.meta_path"); return super().insert(*a)
    def append(self, *a): record("sys.meta_path"); return super().append(*a)
    def remove(self, *a): record("sys.meta_path"); return super().remove(*a)

sys.meta_path = MetaPath(sys.meta_path)
dup2, environ_set = os.dup2, type(os.environ).__setitem__
os.dup2 = lambda *a, **k: (record("file descriptor 2"), dup2(*a, **k))[1]
type(os.environ).__setitem__ = lambda self, k, v: (record("os.environ"), environ_set(self, k, v))[1]
stderr = sys.stderr
for package in ("constrained_layers", "constrained_zoo", "constrained_zoo.models", "constrained_zoo.training"):
    importlib.import_module(package)
if sys.stderr is not stderr:
    changes.append(("sys.stderr", "", 0))
print(json.dumps(changes))
"""


def _python(*args, cwd=REPO):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    env.update(KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "tensorflow"), CUDA_VISIBLE_DEVICES="",
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)


@pytest.fixture(scope="module")
def everything_imported():
    import json

    done = _python("-c", IMPORT_EVERYTHING, REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_nothing_of_the_project_changes_global_state_on_import():
    """Caught as it happens, before TensorFlow has loaded: no finder, no redirected stderr, no variable."""
    import json

    done = _python("-c", SPY, REPO)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_every_module_is_imported(everything_imported):
    imported = everything_imported["imported"]
    assert {"constrained_layers.base", "constrained_zoo.models.predict", "constrained_zoo.training.train",
            "constrained_zoo.training.run.fit", "constrained_zoo.commands"} <= set(imported)


def test_importing_adds_nothing_to_sys_meta_path(everything_imported):
    assert everything_imported["meta_path_added"] == []
    assert everything_imported["meta_path_same"]


def test_importing_leaves_stderr_alone(everything_imported):
    assert everything_imported["stderr_same"]


def test_importing_leaves_the_environment_alone(everything_imported):
    assert everything_imported["environ_changed"] == []


def test_each_file_is_loaded_once(everything_imported):
    assert everything_imported["twice"] == {}


@pytest.mark.parametrize("code, right_name", [
    ("import models", "constrained_zoo.models"),
    ("import training", "constrained_zoo.training"),
    ("from training import settings", "constrained_zoo.training"),
])
def test_the_folders_names_are_refused_with_the_right_one(code, right_name):
    done = _python("-c", code)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: ") and right_name in last, done.stderr


def test_python_m_with_the_folders_name_is_refused():
    done = _python("-m", "training.train", "--help")
    assert done.returncode == 1 and done.stdout == ""
    assert "python -m constrained_zoo.training.NAME" in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["constrained_zoo.constrained_layers", "constrained_zoo.tests",
                                  "constrained_zoo.results"])
def test_the_zoo_holds_only_its_own_packages(name):
    done = _python("-c", f"import {name}")
    assert done.returncode == 1
    assert f"ModuleNotFoundError: No module named '{name}'" in done.stderr, done.stderr


def test_a_command_quiets_tensorflow_for_itself():
    """What importing must not do, a command does: the filter in place before TensorFlow loads."""
    code = ("import os, sys; before = list(sys.meta_path); from constrained_zoo import commands; "
            "assert sys.meta_path == before and 'TF_CPP_MIN_LOG_LEVEL' not in os.environ; "
            "commands.quiet_tensorflow(); "
            "print(len(sys.meta_path) - len(before), os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    done = _python("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]

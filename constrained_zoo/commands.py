"""The command-line entry points, and the quiet TensorFlow start they give themselves.

TensorFlow prints start-up lines (oneDNN, "Could not find cuda drivers",
"failed call to cuInit", absl's "All log messages before
absl::InitializeLog() is called ...") straight to file descriptor 2,
whatever `TF_CPP_MIN_LOG_LEVEL` says. A command calls `quiet_tensorflow()`
before anything imports TensorFlow: it sets `TF_CPP_MIN_LOG_LEVEL=1` unless
the user set it (informational lines off, warnings and errors on) and, when
`tensorflow` is first imported, holds descriptor 2 in a temporary file for
the import and the first device query, then writes back every line but those.

Only commands do this: importing `constrained_layers` or `constrained_zoo`
changes no global state. The console scripts (`czoo-train`, `czoo-sweep`,
`czoo-evaluate`, `czoo-publish`, `czoo-predict`, `czoo-params`) are this
module's functions; each `python -m constrained_zoo.training.NAME` module
calls `quiet_tensorflow()` first when it runs as `__main__`. Standard library only.
"""

import contextlib
import importlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

#: The start-up lines `quiet_tensorflow` drops; anything else is shown.
NOISE = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|oneDNN custom operations are on"
    r"|Could not find cuda drivers on your machine"
    r"|failed call to cuInit"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
)


def is_noise(line):
    """Whether `line` is one of TensorFlow's start-up lines (see `NOISE`)."""
    return bool(NOISE.search(line))


@contextlib.contextmanager
def _stderr_filtered():
    """Holds file descriptor 2 in a file for the block; writes back all but the noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().decode(errors="replace").splitlines(keepends=True)
                    if not is_noise(line)]
            if kept:
                os.write(2, "".join(kept).encode())


class _QuietImport(importlib.abc.MetaPathFinder):
    """Wraps the first `import tensorflow` in `_stderr_filtered`.

    A lookup that imports nothing (`importlib.util.find_spec("tensorflow")`,
    as `constrained_layers` asks whether a backend is installed) leaves the
    finder in place; it leaves `sys.meta_path` when TensorFlow is executed.
    """

    def __init__(self):
        self._looking = False  # find_spec below asks sys.meta_path again: this finder must not answer itself

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or self._looking:
            return None
        self._looking = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._looking = False
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec_module(module):
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            with _stderr_filtered():
                exec_module(module)
                try:  # the first device query is what logs cuInit's failure
                    module.config.list_physical_devices("GPU")
                except Exception:  # pylint: disable=broad-except
                    pass

        spec.loader.exec_module = quiet_exec_module
        return spec


def quiet_tensorflow():
    """Silences TensorFlow's start-up lines, and only those; call before importing it.

    Sets `TF_CPP_MIN_LOG_LEVEL=1` (TensorFlow's C++ warnings and errors
    pass, its informational lines do not) unless it is set, and filters the lines TensorFlow prints before it reads that
    setting (see the module docstring). Does nothing to a TensorFlow
    already imported.

    Example:

    >>> quiet_tensorflow()
    >>> import tensorflow as tf  # no oneDNN, cuda or absl lines
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietImport())


def _run(module):
    """Quiets TensorFlow, imports the command's `module` and returns its `main()`'s exit code."""
    quiet_tensorflow()
    return importlib.import_module(module).main()


def train():
    """`czoo-train`: `python -m constrained_zoo.training.train`."""
    return _run("constrained_zoo.training.train")


def sweep():
    """`czoo-sweep`: `python -m constrained_zoo.training.sweep`."""
    return _run("constrained_zoo.training.sweep")


def evaluate():
    """`czoo-evaluate`: `python -m constrained_zoo.training.evaluate`."""
    return _run("constrained_zoo.training.evaluate")


def publish():
    """`czoo-publish`: `python -m constrained_zoo.training.publishing`."""
    return _run("constrained_zoo.training.publishing.publish")


def predict():
    """`czoo-predict`: `python -m constrained_zoo.models.predict`."""
    return _run("constrained_zoo.models.predict")


def params():
    """`czoo-params`: `python -m constrained_layers.params`, §7.1's parameter arithmetic."""
    return _run("constrained_layers.params")

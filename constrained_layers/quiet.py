"""A quiet TensorFlow start: its start-up lines filtered, its real warnings and errors kept.

TensorFlow prints start-up lines (oneDNN, "Could not find cuda drivers",
"failed call to cuInit", absl's "All log messages before
absl::InitializeLog() is called ...") straight to file descriptor 2,
whatever `TF_CPP_MIN_LOG_LEVEL` says. `quiet_tensorflow()` sets
`TF_CPP_MIN_LOG_LEVEL=1` unless the user set it (TensorFlow's informational
lines off, warnings and errors on), and when `tensorflow` is first imported
holds descriptor 2 in a temporary file for the import and the first device
query, then writes back every line but those. `import constrained_layers`
calls it before it imports Keras, so `import constrained_layers`, `import
models` and every command of the zoo start quietly, with no environment
variable to set.
"""

import contextlib
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
    """Wraps the first `import tensorflow` in `_stderr_filtered`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec_module(module):
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

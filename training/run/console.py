"""What the command-line tools share: a quiet TensorFlow start and a log file.

- `quiet_tensorflow()`: TensorFlow prints four kinds of start-up lines
  (oneDNN, "Could not find cuda drivers", "failed call to cuInit", absl's
  "All log messages before absl::InitializeLog() is called ...") straight
  to file descriptor 2, whatever `TF_CPP_MIN_LOG_LEVEL` says. This sets
  `TF_CPP_MIN_LOG_LEVEL=2` unless the user set it, and when `tensorflow`
  is first imported holds descriptor 2 in a temporary file for the import
  and the first device query, then writes back every line but those four
  kinds: real warnings and errors still show.
- `log_to(path)`: copies what the process prints (Python's `sys.stdout`
  and `sys.stderr`) to a file as well.
"""

import contextlib
import datetime
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

    Sets `TF_CPP_MIN_LOG_LEVEL=2` (warnings and errors only) unless it is
    set, and filters the lines TensorFlow prints before it reads that
    setting (see the module docstring). Does nothing to a TensorFlow
    already imported.

    Example:

    >>> quiet_tensorflow()
    >>> import tensorflow as tf  # no oneDNN, cuda or absl lines
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules or any(isinstance(f, _QuietImport) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietImport())


class _Tee:
    """A text stream that writes to a stream and to a file."""

    def __init__(self, stream, file):
        self._stream, self._file = stream, file

    def write(self, text):
        self._file.write(text)
        return self._stream.write(text)

    def flush(self):
        self._file.flush()
        self._stream.flush()

    def __getattr__(self, name):  # isatty, encoding, fileno, ...
        return getattr(self._stream, name)


class FileLog:
    """`sys.stdout` and `sys.stderr` copied to a file, in append mode, until `close()`.

    Args:
        path: the log file (created, or appended to).
        command: a line written first, with the date: what was run.
    """

    def __init__(self, path, command):
        self.path = path
        self._file = open(path, "a", encoding="utf-8", buffering=1)  # pylint: disable=consider-using-with
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        self._file.write(f"# {stamp}: {command}\n")
        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(sys.stdout, self._file), _Tee(sys.stderr, self._file)

    def close(self):
        if self._file.closed:
            return
        sys.stdout, sys.stderr = self._saved
        self._file.close()

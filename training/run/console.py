"""A run's log file: `FileLog(path, command)` copies what the process prints to a file as well.

(The commands start TensorFlow quietly for themselves: `constrained_zoo.commands`.)
"""

import datetime
import sys

# Set by the sweep when the process's output already goes to train.log.
LOG_CAPTURED_ENV = "TRAINING_LOG_CAPTURED"


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

"""Writing files that others read, so that a crash never leaves half of one.

Everything is written under a temporary name in the same directory, flushed
to disk, and renamed over the final name (`os.replace` is atomic on POSIX):
a reader sees the old complete file or the new complete file, never a mix.
"""

import contextlib
import json
import os
import shutil
import tempfile


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; renames it to `path` on success.

    Works for files and directories (a SavedModel). On an exception the
    temporary is removed and `path` is left as it was.

    Example:

    >>> with atomic_path("results.json") as tmp:
    ...     write_something(tmp)
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}", dir=parent)
    os.close(fd)
    os.remove(tmp)  # the writer creates it (a file or a directory)
    try:
        yield tmp
        if os.path.isfile(tmp):
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        if os.path.isdir(tmp) and os.path.isdir(path):
            # Directories can't be replaced atomically: move the old one
            # aside first, so at every moment one complete copy exists.
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(parent)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


def remove_leftovers(directory):
    """Removes the temporaries that a killed `atomic_path` left in `directory`.

    A SIGKILL inside `with atomic_path(path)` skips its cleanup and leaves
    `.NAME.XXXXXXXX.tmp...` (a file, or a directory, a SavedModel's, maybe
    as large as the model). Only names of that form are removed; call this
    when no other process is writing into `directory`. Returns their names.

    Example:

    >>> remove_leftovers("runs/lenet5")
    []
    """
    removed = []
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
        if not (name.startswith(".") and ".tmp" in name):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
        removed.append(name)
    return removed


def write_text(path, text):
    """Writes `text` to `path` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def write_json(path, data):
    """Writes `data` as indented JSON to `path` atomically."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")

"""Files that others read, written so that a crash never leaves half of one; JSON as other readers take it.

Everything is written under a temporary name in the same directory, flushed
to disk, and renamed over the final name (`os.replace` is atomic on POSIX):
a reader sees the old complete file or the new complete file, never a mix.

- `atomic_path(path)`: a temporary path to write a file or a directory
  into, renamed to `path` at the end of the block.
- `write_text(path, text)`, `write_json(path, data)`: a whole file at once.
- `json_safe(data)`, `to_json(data)`: standard JSON (NaN as null), indented
  and key-sorted, the one format of every JSON file the zoo writes.
- `remove_leftovers(directory)`: what a SIGKILL inside `atomic_path` left.

The zoo's models (the weights manifest) and its training (runs, sweeps,
reports) both write through this module; it imports nothing but the
standard library.
"""

import contextlib
import json
import math
import os
import shutil
import signal
import tempfile
import threading

#: The signals a directory swap's two renames are shielded from (`_deferred`).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
ASIDE = ".aside"  # `.NAME.TOKEN.aside`: the complete old copy of a directory NAME during its swap
_OLD_ASIDE = ".tmp.old"  # the same, as written by earlier versions (no suffix then)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _deferred():
    """A block no stop signal interrupts; one that came is delivered at its end.

    In the main thread, the handlers of `STOP_SIGNALS` are swapped for
    recorders during the block, and a signal that came is raised again
    after it: it reaches the previous handler, whatever that does (record,
    as `training.run.signals.stop_on_signals`'s do, or raise
    `KeyboardInterrupt` in a program that installed none). In another
    thread no handler can run, so nothing is needed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    # A handler installed outside Python (None) could not be put back: such a signal is left alone.
    previous = {signum: signal.signal(signum, lambda signum, frame: caught.append(signum))
                for signum in STOP_SIGNALS if signal.getsignal(signum) is not None}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _aside_of(name):
    """NAME, from `.NAME.TOKEN.aside` (or `.NAME.TOKEN.tmp.old`, as earlier versions named it)."""
    if name.endswith(_OLD_ASIDE):
        return name[1:].rsplit(".", 3)[0]
    return name[1:-len(ASIDE)].rsplit(".", 1)[0]


def _temporary_names(path, suffix):
    """`(.NAME.TOKEN.tmpSUFFIX, .NAME.TOKEN.aside)` beside `path`, the first reserved (created empty)."""
    parent, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=f".tmp{suffix}", dir=parent)
    os.close(fd)
    os.remove(tmp)  # the writer creates it (a file or a directory)
    token = os.path.basename(tmp)[len(name) + 2:-len(f".tmp{suffix}")]
    return tmp, os.path.join(parent, f".{name}.{token}{ASIDE}")


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path beside `path`; renames it to `path` on success.

    Works for files and directories (a SavedModel). On an exception the
    temporary is removed and `path` is left as it was. A directory that
    replaces another takes two renames, run under `_deferred()`: a SIGINT
    or SIGTERM cannot split them.

    Example:

    >>> with atomic_path("results.json") as tmp:
    ...     write_something(tmp)
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp, aside = _temporary_names(path, suffix)
    try:
        yield tmp
        if os.path.isfile(tmp):
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        if os.path.isdir(tmp) and os.path.isdir(path):
            # Directories can't be replaced atomically: move the old one
            # aside first (`.NAME.TOKEN.aside`), so at every moment one
            # complete copy exists; a SIGKILL between the two renames is
            # undone by `remove_leftovers`, which puts the old one back.
            with _deferred():  # a signal that came is delivered once the old copy is gone too
                os.replace(path, aside)
                os.replace(tmp, path)
                _fsync_dir(parent)
                shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(tmp, path)  # one rename: nothing a signal could split
        _fsync_dir(parent)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


def remove_leftovers(directory):
    """Removes the temporaries that a killed `atomic_path` left in `directory`.

    A SIGKILL inside `with atomic_path(path)` skips its cleanup and leaves
    `.NAME.TOKEN.tmp...` (a file, or a directory, a SavedModel's, maybe
    as large as the model). Only names of that form are removed; call this
    when no other process is writing into `directory`. Returns their names.

    One is not a temporary: a directory `.NAME.TOKEN.aside` is the complete
    old copy of `NAME` that a kill between the two renames of a directory
    replacement left. If `NAME` is missing (the new copy was never put in
    place), it is renamed back to `NAME`, not removed, and reported as
    `".NAME.TOKEN.aside -> NAME"`; otherwise it is removed.

    Example:

    >>> remove_leftovers("runs/lenet5")
    []
    """
    removed = []
    names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    for name in [n for n in names if n.startswith(".") and n.endswith((ASIDE, _OLD_ASIDE))]:
        path = os.path.join(directory, name)
        target = os.path.join(directory, _aside_of(name))
        if os.path.isdir(path) and not os.path.lexists(target):
            os.replace(path, target)
            _fsync_dir(directory)
            names.remove(name)
            removed.append(f"{name} -> {os.path.basename(target)}")
    for name in names:
        if not (name.startswith(".") and (".tmp" in name or name.endswith(ASIDE))):
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


def json_safe(data):
    """`data` with every NaN and infinity replaced by None (JSON's null).

    JSON has no NaN: Python's `json` writes the non-standard `NaN` and
    `Infinity`, which other readers reject.

    Example:

    >>> json_safe({"loss": float("nan"), "history": [1.0, float("inf")]})
    {'loss': None, 'history': [1.0, None]}
    """
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(v) for v in data]
    return data


def to_json(data, sort_keys=True):
    """Standard JSON text: indented by 2, keys sorted (unless not `sort_keys`), NaN and infinities as null, a final newline.

    Example:

    >>> to_json({"b": 1, "a": float("nan")})
    '{\\n  "a": null,\\n  "b": 1\\n}\\n'
    """
    return json.dumps(json_safe(data), indent=2, sort_keys=sort_keys, allow_nan=False) + "\n"


def write_json(path, data, sort_keys=True):
    """Writes `data` to `path` atomically as `to_json(data, sort_keys)` writes it."""
    write_text(path, to_json(data, sort_keys))

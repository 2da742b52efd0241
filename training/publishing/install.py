"""The weights root's manifest and files, replaced together: a kill at any point leaves a valid pair.

A published file is named by its content (`models.manifest.weights_file`:
`<dataset>/<model>[.<tag>]-<sha256[:12]>.weights.h5`), so a new file never
replaces the one the manifest names. Under the root's lock, `install`
(1) writes the new file atomically beside the old one, (2) replaces
`manifest.json` atomically with the entry naming the new file, (3) deletes
the files no entry names (the old one, and what a publish killed before
step 2 left). Killed before (2): the old manifest and its old file, intact.
After (2): the new manifest and its new file. A reader never sees a
manifest whose sha256 names another file than the one on disk.
"""

import contextlib
import fcntl
import os
import shutil
import tempfile

from constrained_zoo.atomic import atomic_path, remove_leftovers
from constrained_zoo.models import manifest
from constrained_zoo.models.manifest import SUFFIX

LOCK = ".publish.lock"


@contextlib.contextmanager
def root_lock(root):
    """Holds an exclusive lock on `ROOT/.publish.lock`, removed when released (no lock file left in the package).

    A lock file, not the directory: NFS emulates `flock` with a write lock,
    which a directory's read-only descriptor cannot take (EBADF). It is
    removed while held; a process that locked the removed file sees that
    the path no longer names it, and tries again.
    """
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, LOCK)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        except BaseException:
            os.close(fd)
            raise
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # removed by the holder we waited for: lock the new one
    try:
        yield
    finally:
        os.remove(path)
        os.close(fd)


def _stage(save_weights):
    """Saves the weights into a temporary folder; returns (path, sha256, bytes)."""
    folder = tempfile.mkdtemp(prefix="publish-")
    path = os.path.join(folder, "staged" + SUFFIX)
    save_weights(path)
    return path, manifest.sha256_of(path), os.path.getsize(path)


def _unnamed_files(root, current):
    named = {os.path.normpath(w["file"]) for w in current["weights"]}
    for dataset in sorted(os.listdir(root)):
        folder = os.path.join(root, dataset)
        if not os.path.isdir(folder):
            continue
        remove_leftovers(folder)  # temporaries of a publish killed while writing
        for name in sorted(os.listdir(folder)):
            if name.endswith(SUFFIX) and os.path.normpath(os.path.join(dataset, name)) not in named:
                yield os.path.join(folder, name)


def install(root, entry, save_weights):
    """Publishes `entry` with the file `save_weights(path)` writes, replacing the entry of the same weights name.

    Fills in the entry's `file`, `sha256` and `bytes`; returns the entry.
    """
    staged, digest, size = _stage(save_weights)
    try:
        with root_lock(root):
            relative = manifest.weights_file(entry["model"], entry["dataset"], digest, entry.get("tag"))
            with atomic_path(os.path.join(root, relative), suffix=SUFFIX) as tmp:  # (1)
                shutil.copyfile(staged, tmp)
            entry = {**entry, "file": relative, "sha256": digest, "bytes": size}
            updated = manifest.updated_manifest(manifest.read_manifest(root), entry)
            manifest.write_manifest(updated, root)  # (2)
            for path in list(_unnamed_files(root, updated)):  # (3)
                os.remove(path)
    finally:
        shutil.rmtree(os.path.dirname(staged), ignore_errors=True)
    return entry

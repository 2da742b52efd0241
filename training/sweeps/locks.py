"""The folder's locks: run locks taken without waiting, short locks waited on for a bounded time, and checks.

`fcntl.flock` is what coordinates sweeps that share a folder. Three ways
it can fail are told apart here:

- busy: another process holds the lock (`try_lock` returns None; `flocked`
  waits, a bounded and interruptible wait, then raises `LockTimeout`);
- unsupported: the file system refuses `flock` (ENOSYS on Lustre mounted
  without `flock`, ENOLCK on NFS without a lock daemon, EBADF where locks
  are emulated with byte-range locks): `LockUnsupported`, one message
  naming the file system's lock support;
- incoherent: `flock` succeeds but does not exclude another process (a
  file system that ignores it): `probe` finds it, from two processes.

Locks that are only node-local (NFS mounted with `local_lock`, Lustre with
`localflock`, BeeGFS by default) exclude processes on one machine but not
across machines: no probe from one machine can see that, so sharing an
unsharded folder between machines on a network file system is refused
unless the user says the locks are coherent (`network_file_system`,
`--trust-folder-locks`; docs/scaling.md).
"""

import contextlib
import errno
import fcntl
import os
import subprocess
import sys
import time

from ..run import signals

#: How long a sweep waits for a short lock (`.sweep.lock`, `.report.lock`) by default.
SHORT_LOCK_SECONDS = 60.0
_POLL = 0.05
_SAY_WAITING_AFTER = 2.0
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
#: What a file system without (usable) flock answers: Lustre without `flock`, NFS without lockd, emulated locks.
UNSUPPORTED = (errno.ENOSYS, errno.ENOLCK, errno.EBADF, errno.EOPNOTSUPP, errno.EINVAL)

#: File systems shared between machines, where flock may be node-local (the type in /proc/self/mountinfo).
NETWORK_FILE_SYSTEMS = ("nfs", "nfs4", "lustre", "beegfs", "gpfs", "ceph", "cifs", "smb3", "glusterfs", "orangefs",
                        "panfs", "wekafs", "afs", "fuse.sshfs", "fuse.s3fs", "fuse.gcsfuse", "fuse.juicefs",
                        "fuse.glusterfs", "fuse.ceph-fuse", "fuse.rclone", "fuse.beegfs")


class LockUnsupported(OSError):
    """The file system refused `flock` (not "busy"): the message names its lock support."""


class LockTimeout(TimeoutError):
    """A short lock stayed held longer than the wait allows."""


def unsupported(path, error):
    """The `LockUnsupported` for `error` (an `OSError` from `flock` on `path`)."""
    return LockUnsupported(
        error.errno,
        f"cannot lock {path}: {os.strerror(error.errno)} (errno {errno.errorcode.get(error.errno, error.errno)}). "
        f"This file system does not support flock locks (Lustre mounted without `flock`, NFS without a lock "
        f"daemon or with `nolock`, a FUSE file system): sweeps cannot share this folder. Use a local folder, "
        f"--shard K/N with one process per shard, or --executor ray (docs/scaling.md).")


def _flock(handle, path, operation):
    """`flock`; False if busy; `LockUnsupported` where the file system has no locks; other errors (ESTALE) as such."""
    try:
        fcntl.flock(handle, operation)
    except OSError as error:
        if error.errno in _BUSY:
            return False
        if error.errno in UNSUPPORTED:
            raise unsupported(path, error) from error
        raise
    return True


def try_lock(path):
    """An open handle holding an exclusive lock on `path` (created), or None if another process holds it."""
    handle = open(path, "a", encoding="utf-8")  # pylint: disable=consider-using-with
    try:
        if _flock(handle, path, fcntl.LOCK_EX | fcntl.LOCK_NB):
            return handle
    except BaseException:
        handle.close()
        raise
    handle.close()
    return None


@contextlib.contextmanager
def flocked(path, timeout=None, say=None):
    """Holds an exclusive lock on `path` (created) for a short read-and-write: a leaf lock.

    The wait for it is bounded (`timeout` seconds, `SHORT_LOCK_SECONDS` by
    default: `LockTimeout` after it) and interruptible (a stop signal
    raises `StopRequested` while waiting). A wait longer than a moment is
    said once on stderr, or with `say(message)`.

    Example:

    >>> with flocked("results/digits/.report.lock", timeout=5):
    ...     write_the_tables()
    """
    timeout = SHORT_LOCK_SECONDS if timeout is None else timeout
    start = time.monotonic()
    told = False
    while True:
        handle = try_lock(path)
        if handle is not None:
            break
        signals.raise_if_stopped()
        waited = time.monotonic() - start
        if waited >= timeout:
            raise LockTimeout(f"{path} stayed locked by another process for {timeout:g} s (a sweep stopped with "
                              f"Ctrl-Z, or a dead NFS client's lock?); find its holder with `fuser {path}`")
        if not told and waited >= _SAY_WAITING_AFTER:
            told = True
            message = f"waiting for {path} (another process holds it; at most {timeout:g} s)"
            (say or (lambda text: print(text, file=sys.stderr, flush=True)))(message)
        time.sleep(_POLL)
    try:
        yield handle
    finally:
        handle.close()


_PROBE = """
import errno, fcntl, sys
with open(sys.argv[1], "a") as f:
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        sys.exit(0 if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) else 3)
sys.exit(1)
"""


def probe(folder, timeout=60):
    """Whether a lock this process holds in `folder` excludes another process; raises `LockUnsupported`.

    Takes `FOLDER/.probe.lock`, then a second process tries it without
    waiting: it must find it busy. Catches a file system that ignores
    `flock`; node-local locks look coherent from one machine (see the
    module docstring).
    """
    path = os.path.join(folder, ".probe.lock")
    handle = try_lock(path)
    if handle is None:
        return True  # another sweep probing now: it excluded us
    with handle:
        done = subprocess.run([sys.executable, "-c", _PROBE, path], capture_output=True, timeout=timeout, check=False)
    return done.returncode == 0


def mount_of(path, mountinfo="/proc/self/mountinfo"):
    """`(mount point, file system type)` of the mount holding `path`, or None where /proc is absent."""
    try:
        with open(mountinfo, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    path = os.path.realpath(path)
    best = None
    for line in lines:
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        point = fields[4].replace("\\040", " ")
        kind = line.split(" - ", 1)[1].split()[0]
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, kind)
    return best


def network_file_system(path, mountinfo="/proc/self/mountinfo"):
    """The type of the network file system holding `path` (`"nfs4"`, `"lustre"`, `"fuse.sshfs"`...), or None.

    Example:

    >>> network_file_system("/scratch/results")  # on a cluster's Lustre
    'lustre'
    """
    mount = mount_of(path, mountinfo)
    if mount is None:
        return None
    kind = mount[1]
    return kind if kind in NETWORK_FILE_SYSTEMS else None

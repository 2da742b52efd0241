"""Finding and waiting for a sweep's processes: the helpers that the concurrency and stop-path tests share.

Every wait has a timeout that turns a hang into a failure, and whatever is
still running then is killed, so a failing test leaves nothing behind.
"""

import os
import signal
import subprocess
import time

import pytest

from tests.training import cli

WAIT = 120  # seconds: a stand-in sweep takes one or two


def children_of(out, commands=(b"fake_train", b"training.train")):
    """PIDs of live processes (not zombies) whose command line names `out`: training processes, stand-in or real
    (`commands`: the module names that count; `(b"fake_sweep",)`: stand-in sweeps)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        trainer = any(w.endswith(commands) for w in words)
        if trainer and any(os.fspath(out).encode() in w for w in words) and not zombie:
            found.append(int(pid))
    return found


def finish(proc, log, timeout=WAIT):
    """Waits for `proc` (killing it after `timeout`: a hang fails); returns (exit status, its output)."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"the sweep still ran after {timeout} s:\n{log.read_text()}")
    return proc.returncode, log.read_text()


def wait_all(procs, timeout=cli.TIMEOUT):
    """Waits for every process; a process still running after `timeout` is a hang: kill all, fail."""
    deadline = time.monotonic() + timeout
    try:
        for proc in procs:
            proc.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"a sweep still ran after {timeout} s: a deadlock")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def no_children_left(out, timeout=30):
    """Every training process on `out` ended within `timeout` seconds (they stop after a batch)."""
    try:
        cli.wait_for(lambda: not children_of(out), timeout=timeout, what="no training process")
    except TimeoutError:
        left = children_of(out)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        pytest.fail(f"training processes left running: {left}")

"""Runs `python -m constrained_zoo.training.train` and `training.evaluate` as a user would, in subprocesses.

Example:

>>> done = train(tmp_path / "run", "--model", "mlp_small", "--dataset", "digits", "--epochs", "1")
>>> check(done)  # raises with the output's tail if the exit code is not 0
>>> read_json(tmp_path / "run" / "results.json")["epochs"]
1
"""

import csv
import json
import os
import socket
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: The environment of every subprocess: quiet TensorFlow, its Keras backend,
#: CPU only (the tests count replicas and compare numbers exactly), no
#: TF_CONFIG unless a test sets one.
ENV = {
    **{k: v for k, v in os.environ.items() if k != "TF_CONFIG"},
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "KERAS_BACKEND": "tensorflow",
    "CUDA_VISIBLE_DEVICES": "",
    "PYTHONDONTWRITEBYTECODE": "1",
    "CZOO_ALLOW_DIRTY": "1",  # a developer's checkout under test may be dirty; test_provenance checks the refusal
}

#: A run that takes longer than this has hung (a one-epoch run takes ~10 s).
TIMEOUT = 300


def train_command(out, *args):
    return [sys.executable, "-m", "constrained_zoo.training.train", "--out", os.fspath(out), *map(str, args)]


def train(out, *args, env=None, timeout=TIMEOUT):
    """Runs the training CLI to its end; returns the `CompletedProcess`."""
    return subprocess.run(
        train_command(out, *args), cwd=REPO, env={**ENV, **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )


def start_train(out, *args, log, env=None):
    """Starts the training CLI; its stdout and stderr go to the file `log`."""
    with open(log, "w") as f:  # the child keeps its own descriptor
        return subprocess.Popen(
            train_command(out, *args), cwd=REPO, env={**ENV, **(env or {})},
            stdout=f, stderr=subprocess.STDOUT, text=True,
        )


def python(code, *args, cwd=REPO, timeout=TIMEOUT):
    """Runs `python -c code args...`; returns the `CompletedProcess`."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=ENV,
        capture_output=True, text=True, timeout=timeout,
    )


def evaluate(run_dir, timeout=TIMEOUT):
    """Runs `python -m constrained_zoo.training.evaluate run_dir`; returns the `CompletedProcess`."""
    return subprocess.run(
        [sys.executable, "-m", "constrained_zoo.training.evaluate", os.fspath(run_dir)], cwd=REPO, env=ENV,
        capture_output=True, text=True, timeout=timeout,
    )


def tail(text, lines=40):
    return "\n".join(text.strip().splitlines()[-lines:])


def check(done, returncode=0):
    """Asserts a `CompletedProcess` exited with `returncode`, showing its output if not."""
    assert done.returncode == returncode, (
        f"exit code {done.returncode}, expected {returncode}\n--- stdout\n{tail(done.stdout)}"
        f"\n--- stderr\n{tail(done.stderr)}"
    )
    return done


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_history(run_dir):
    """history.csv as a list of dicts of floats (epoch as int)."""
    with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
        return [{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()} for row in csv.DictReader(f)]


def checkpoint_state(run_dir):
    """checkpoints/checkpoint.json, or None while there is none (it is replaced atomically)."""
    path = os.path.join(run_dir, "checkpoints", "checkpoint.json")
    return read_json(path) if os.path.exists(path) else None


def wait_for(condition, timeout, interval=0.01, what="the condition"):
    """Polls `condition()` until it returns something true; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} did not hold within {timeout} s")


def free_ports(count):
    """`count` distinct TCP ports free on 127.0.0.1 (free now; a test binds them soon after)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()

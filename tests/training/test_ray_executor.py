"""`--executor ray` on a local Ray instance: each run a Ray task, a killed worker's run retried, the local table.

The sweep's driver runs as a user's script would (`ray.init(num_cpus=2)`,
then `constrained_zoo.training.sweep.main`) in a subprocess; the test SIGKILLs the Ray
worker process running one run (the parent of its training process) after
the run's first checkpoint.
"""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.training import cli
from tests.training.processes import children_of, finish, no_children_left
from tests.training.test_sweep import run_sweep, table, trainings

from constrained_zoo.training import sweep

pytestmark = pytest.mark.tensorflow_only

RUNS = ("--dataset", "digits", "--models", "mlp_linear", "--seeds", 4, "--epochs", 3, "--batch-size", 16)
DRIVER = ("import sys, ray\n"
          "ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)\n"
          "from constrained_zoo.training import sweep\n"
          "sys.exit(sweep.main(sys.argv[1:]))\n")


def _parent(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _a_run_past_its_first_checkpoint(out):
    """(run folder, its training process) of a run with a checkpoint and epochs to go, or None."""
    for pid in children_of(out):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = [w.decode() for w in f.read().split(b"\0")]
        except OSError:
            continue
        if "--out" not in words:  # it exited since children_of read it: an exited process's cmdline is empty
            continue
        run_dir = words[words.index("--out") + 1]
        if 1 <= (cli.checkpoint_state(os.path.join(cli.REPO, run_dir)) or {}).get("epoch", 0) < 3:
            return os.path.join(cli.REPO, run_dir), pid
    return None


def test_a_ray_sweep_with_a_killed_worker_trains_each_run_once_with_the_local_table(tmp_path):
    local = tmp_path / "local"
    cli.check(run_sweep(local, *RUNS, "--jobs", 2))
    out, log = tmp_path / "ray", tmp_path / "driver.log"
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, "--executor", "ray", "--out", os.fspath(out),
                                 *map(str, RUNS)], cwd=cli.REPO, env=cli.ENV, stdout=f, stderr=subprocess.STDOUT)
    try:
        run_dir, trainer = cli.wait_for(lambda: _a_run_past_its_first_checkpoint(out) or proc.poll() is not None,
                                        timeout=cli.TIMEOUT, interval=0.005, what="a run's first checkpoint")
        os.kill(trainer, signal.SIGSTOP)  # it cannot finish while its worker dies
        worker = _parent(trainer)
        os.kill(worker, signal.SIGKILL)
        time.sleep(1)
        os.kill(trainer, signal.SIGCONT)  # its worker's death sent it SIGTERM: it stops after this batch
        code, output = finish(proc, log, timeout=cli.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, output
    expected = {os.path.join("runs", "mlp_linear", f"seed{s}"): 1 for s in range(4)}
    assert trainings(out) == expected
    assert table(out) == table(local)
    with open(os.path.join(run_dir, "train.log"), encoding="utf-8") as f:
        attempts = re.findall(r"^# .* \(Ray task\): (.*)$", f.read(), re.MULTILINE)
    assert len(attempts) == 2 and not attempts[0].endswith("--resume") and attempts[1].endswith("--resume")
    no_children_left(out)


def test_the_ray_executor_is_refused_cleanly_without_ray(tmp_path, monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    code = sweep.main(["--executor", "ray", "--dataset", "digits", "--models", "mlp_linear", "--out", tmp_path])
    assert code == 2
    assert "--executor ray needs Ray: pip install 'constrained-layers-zoo[ray]'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_sigterm_to_a_ray_driver_cancels_its_tasks_and_leaves_no_training_process(tmp_path):
    out, log = tmp_path / "ray", tmp_path / "driver.log"
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.Popen([sys.executable, "-c", DRIVER, "--executor", "ray", "--out", os.fspath(out),
                                 "--dataset", "digits", "--models", "mlp_small", "--seeds", "2", "--epochs", "200",
                                 "--batch-size", "16"], cwd=cli.REPO, env=cli.ENV, stdout=f, stderr=subprocess.STDOUT)
    try:
        cli.wait_for(lambda: _a_run_past_its_first_checkpoint(out) or proc.poll() is not None, timeout=cli.TIMEOUT,
                     what="a run's first checkpoint")
        proc.send_signal(signal.SIGTERM)
        code, output = finish(proc, log, timeout=cli.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 143, output
    assert "stopped after epoch" in output and "continue with:" in output
    no_children_left(out)

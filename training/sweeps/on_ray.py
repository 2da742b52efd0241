"""A sweep's runs as Ray tasks: Ray places, watches and retries them; the driver alone writes the folder's shared files.

    python -m constrained_zoo.training.sweep --executor ray --dataset fashion_mnist --models "cnn_*" --seeds 3 \
        --cpus-per-run 4 --gpus-per-run 1 --out /shared/results/fashion_mnist

The driver (the sweep process) connects to Ray (`ray.init`: `--ray-address`,
else `RAY_ADDRESS`, a cluster `ray start` runs on this machine, or a new
local instance; a program that called `ray.init` itself keeps its own) and
submits one task per unfinished run, reserving `num_cpus` and `num_gpus`.
A task runs `python -m constrained_zoo.training.train` in the driver's working directory,
as the local executor does; the folder must be shared (the same path on
every node), and so must the Python environment.

Who writes what: a run's folder only by its task's training process; the
folder's shared files (`recipe.json`, the tables, the plot) only by the
driver. No lock is needed across machines.

Faults: Ray retries a task whose worker or node dies (`max_retries`); the
retried task's training process resumes from the run's last checkpoint
(`--resume` is decided when the task starts). A worker's training process
asks for SIGTERM should its worker die (`signals.stop_with_parent`), and
a retried task on the same node first waits for it to let go of the run's
lock. A stop (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) or any other exception in
the driver cancels every task (Ray interrupts it; the task stops its
training process after its current batch) and waits for them.
"""

import os
import sys
import time

from .. import settings
from ..run import rundir, signals
from ..run.console import LOG_CAPTURED_ENV
from .scheduler import STOP_GRACE_SECONDS, tail

#: How often a task is retried after its worker or node died (Ray's `max_retries`).
RETRIES = 3
POLL_SECONDS = 0.5


def _train_task(command, run_dir, cwd, environment, epochs, grace):  # pylint: disable=too-many-locals
    """On a Ray worker: trains one run (resuming it if it started); returns (exit status, its log's tail).

    Self-contained (only the standard library): Ray ships it by value, so a
    worker needs only the training command's code, not this module.
    """
    # pylint: disable=import-outside-toplevel,consider-using-with
    import collections
    import fcntl
    import json
    import os as os_
    import signal
    import subprocess
    import time as time_

    folder = os_.path.join(cwd, run_dir)
    os_.makedirs(folder, exist_ok=True)
    lock = open(os_.path.join(folder, ".lock"), "a", encoding="utf-8")
    while True:  # a retried task: the dead worker's training process stops after its batch, then lets go
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            time_.sleep(0.5)
        except OSError:  # no locks here: nothing to wait for on this node
            break

    def finished():
        try:
            with open(os_.path.join(folder, "results.json"), encoding="utf-8") as f:
                return json.load(f).get("epochs") == epochs
        except (OSError, ValueError):
            return False

    log_path = os_.path.join(folder, "train.log")
    if finished():  # trained by an attempt whose worker died before it could answer
        return 0, ""
    if os_.path.exists(os_.path.join(folder, "config.json")):
        command = [*command, "--resume"]
    env = {**os_.environ, **environment}
    env.update({env[".parent"]: str(os_.getpid()), env[".log"]: log_path})
    env.pop(".parent"), env.pop(".log")
    env.pop("OMP_NUM_THREADS", None)  # Ray's, not the user's: the local executor's runs have none
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"# {time_.strftime('%Y-%m-%d %H:%M:%S UTC', time_.gmtime())} (Ray task): {' '.join(command)}\n")
        log.flush()
        process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, pass_fds=(lock.fileno(),), start_new_session=True)
    try:
        code = process.wait()
    except BaseException:  # Ray's cancel interrupts the task: stop the run after its batch
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os_.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise
    finally:
        lock.close()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        return code, "".join(collections.deque(f, maxlen=20))


def ray_module():
    """`ray`, or a `UsageError` saying how to install it."""
    try:
        import ray  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise rundir.UsageError("--executor ray needs Ray: pip install 'constrained-layers-zoo[ray]' "
                                "(or pip install ray).") from None
    return ray


class RaySweep:
    """Trains `runs` as Ray tasks, each reserving `num_cpus` CPUs and `num_gpus` GPUs; see the module docstring.

    The same interface as `scheduler.Sweep`: `run()`, then `failed`,
    `reached` (after a stop) and `start`.

    Args:
        values: the training settings every run shares.
        out: the results folder (shared by every node).
        runs: the `scheduler.Run`s to train.
        on_finished: called in the driver after each run that ends well (the report).
        num_cpus, num_gpus: what each run's task reserves.
        address: the Ray cluster (None: Ray's choice).
        retries: how often a task whose worker or node died is retried.
    """

    def __init__(self, values, out, runs, on_finished=None, num_cpus=1.0, num_gpus=0.0, address=None,
                 retries=RETRIES):
        self.values, self.out, self.runs = values, out, runs
        self.on_finished = on_finished or (lambda run: None)
        self.num_cpus, self.num_gpus, self.address, self.retries = num_cpus, num_gpus, address, retries
        self.failed, self.reached, self.pending = [], [], {}
        self.start = time.perf_counter()
        self.ray = ray_module()

    def command(self, run):
        words = settings.train_words({**self.values, "model": run.model, "seed": run.seed}, full=True,
                                     python=sys.executable)
        return words + ["--out", run.run_dir, "--verbose", "2"]

    def run(self):
        """Trains every unfinished run; raises `signals.StopRequested` when asked to stop (tasks cancelled first)."""
        ray = self.ray
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     runtime_env={"env_vars": {"PYTHONDONTWRITEBYTECODE": "1"}})
        try:
            self._submit_all()
            self._collect()
            signals.raise_if_stopped()
        except BaseException:
            self.reached = self.cancel()
            raise
        finally:
            if started_here:
                ray.shutdown()

    def _submit_all(self):
        task = self.ray.remote(_train_task)
        environment = {k: v for k, v in os.environ.items() if k.startswith(("KERAS_", "TF_"))}
        environment.update({".parent": signals.PARENT_ENV, ".log": LOG_CAPTURED_ENV})  # the names, for the task
        for run in self.runs:
            signals.raise_if_stopped()
            if rundir.run_finished(run.run_dir, self.values["epochs"]):
                print(f"{run.label}: done before, skipped", flush=True)
                continue
            ref = task.options(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=self.retries,
                               retry_exceptions=False, name=f"train {run.model} seed {run.seed}").remote(
                self.command(run), run.run_dir, os.getcwd(), environment, self.values["epochs"], STOP_GRACE_SECONDS)
            self.pending[ref] = run
            print(f"{run.label}: submitted to Ray ({self.num_cpus:g} CPU, {self.num_gpus:g} GPU; "
                  f"{time.perf_counter() - self.start:.0f} s into the sweep)", flush=True)

    def _collect(self):
        ray = self.ray
        while self.pending:
            signals.raise_if_stopped()
            done, _ = ray.wait(list(self.pending), num_returns=1, timeout=POLL_SECONDS)
            for ref in done:
                run = self.pending.pop(ref)
                try:
                    code, last = ray.get(ref)
                except ray.exceptions.RayError as error:  # retries spent, or the task could not run
                    code, last = None, f"{type(error).__name__}: {error}"
                if code == 0:
                    self.on_finished(run)
                    continue
                self.failed.append(f"{run.model} seed {run.seed}")
                log_path = os.path.join(run.run_dir, rundir.LOG_FILE)
                print(f"{run.label}: FAILED (exit status {code}); the last lines of {log_path}:\n"
                      + "".join(f"    {line}" for line in (last or tail(log_path)).splitlines(keepends=True))
                      + f"{run.label}: going on", flush=True)

    def cancel(self):
        """Cancels every task not yet answered and waits for them; returns what the runs reached."""
        ray = self.ray
        refs = list(self.pending)
        for ref in refs:
            ray.cancel(ref)
        ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE_SECONDS + 10) if refs else None
        reached = [f"epoch {rundir.epochs_on_disk(run.run_dir)} of {run.model} seed {run.seed}"
                   for run in self.pending.values() if os.path.exists(os.path.join(run.run_dir, rundir.CONFIG))]
        self.pending.clear()
        return reached


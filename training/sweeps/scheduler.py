"""Many runs, any number of processes: each run trained exactly once, and no process ever waits holding a lock.

Each run is locked while it trains: `fcntl.flock` on `RUN/.lock`, taken
without blocking by the sweep and inherited by its training process, so the
run stays locked while it trains even if the sweep dies. A sweep goes
through its runs in passes: a finished run is skipped; a free one is locked,
checked once more (another process may have finished it meanwhile) and
trained; a run another process holds is left for a later pass. Between
passes the sweep reaps its own finished children (releasing their locks)
and sleeps a moment. Nothing ever blocks on another process's run, so two
sweeps can never wait for each other; a run whose holder dies is taken over
in a later pass (its training process resumes from the last checkpoint).

Two other locks are leaves, held only to read and write a few files and
never while waiting for anything: `OUT/.sweep.lock` around `recipe.json`
(`claim_recipe`) and `OUT/.report.lock` around the tables.

Stopping: the sweep's signal handlers only record (`run.signals`). The
scheduling loop sees the request, forwards the signal to every training
process it started and waits for each (they stop after their current
batch, checkpoint intact). A child is registered in the same uninterrupted
step that starts it, so none can be missed.
"""

import collections
import fcntl
import os
import shlex
import subprocess
import sys
import time

from .. import settings
from ..run import rundir, signals
from ..run.atomic import write_json
from ..run.fit import LOG_CAPTURED_ENV

LOCK = ".lock"
RECIPE = "recipe.json"
TAIL_LINES = 20
POLL_SECONDS = 0.2


class Run:
    """One (model, seed) of the sweep, and its lock while this process trains it."""

    def __init__(self, index, total, model, seed, run_dir):
        self.index, self.total, self.model, self.seed, self.run_dir = index, total, model, seed, run_dir
        self.label = f"[{index}/{total}] {model} seed {seed}"
        self.lock = None
        self.process = None

    def try_lock(self):
        """Takes the run's lock without waiting; False if another process holds it."""
        os.makedirs(self.run_dir, exist_ok=True)
        lock = open(os.path.join(self.run_dir, LOCK), "a", encoding="utf-8")  # pylint: disable=consider-using-with
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return False
        self.lock = lock
        return True

    def release(self):
        if self.lock is not None:
            self.lock.close()  # the training process closed its copy when it ended
            self.lock = None


def flocked(path):
    """An exclusive lock on `path` (created), for a short read-and-write: a leaf lock."""
    handle = open(path, "a", encoding="utf-8")  # pylint: disable=consider-using-with
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def claim_recipe(out, values, title):
    """Writes `OUT/recipe.json` under the folder's lock, or refuses a recipe that differs from it.

    Of two sweeps with different recipes on an empty folder exactly one
    writes it; the other is refused with the settings that differ.
    """
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, RECIPE)
    with flocked(os.path.join(out, ".sweep.lock")):
        existing = rundir.read_json(path)
        if existing is not None:
            differ = settings.recipe_differences(existing, values)
            if differ:
                detail = ", ".join(f"{k}: {a!r} in {RECIPE}, {b!r} now" for k, (a, b) in differ.items())
                raise rundir.UsageError(f"{out} holds runs of another recipe; these settings differ: {detail}. "
                                        f"Use another --out, or the folder's settings.")
            if title is None or title == existing.get("title"):
                return
            write_json(path, {**existing, "title": title})
            return
        execution = {s.name: values[s.name] for s in settings.settings("execution", "sweep") if s.name != "data_dir"}
        write_json(path, {**settings.recipe_of(values), **execution, "title": title})


def job_environment(job, gpus, environ=None):
    """The environment of job `job`: only GPU `gpus[job % len(gpus)]` visible (unchanged without GPUs)."""
    env = dict(os.environ if environ is None else environ)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[job % len(gpus)]
    return env


def tail(path, lines=TAIL_LINES):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(collections.deque(f, maxlen=lines))
    except OSError:
        return ""


class Sweep:
    """Trains `runs`, `jobs` at a time, with the settings `values`; see the module docstring.

    Args:
        values: the training settings every run shares.
        out: the results folder.
        runs: the `Run`s of this process's shard.
        jobs: runs trained at once.
        gpus: the GPU ids jobs are spread over (job j sees gpus[j % G]).
        on_finished: called after each run this process trained ends well (the report).
    """

    def __init__(self, values, out, runs, jobs=1, gpus=(), on_finished=None):
        self.values, self.out, self.runs, self.jobs, self.gpus = values, out, runs, jobs, list(gpus)
        self.on_finished = on_finished or (lambda run: None)
        self.running = {}  # job slot -> Run
        self.failed = []
        self.start = time.perf_counter()

    def command(self, run):
        words = settings.train_words({**self.values, "model": run.model, "seed": run.seed}, full=True,
                                     python=sys.executable)
        words += ["--out", run.run_dir, "--verbose", "2"]
        if os.path.exists(os.path.join(run.run_dir, rundir.CONFIG)):
            words.append("--resume")
        return words

    def _launch(self, run, slot):
        command = self.command(run)
        log_path = os.path.abspath(os.path.join(run.run_dir, rundir.LOG_FILE))
        env = {**job_environment(slot, self.gpus), LOG_CAPTURED_ENV: log_path}
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}: {shlex.join(command)}\n")
            log.flush()
            # Its own session: a Ctrl-C reaches the sweep, which stops it once. It inherits the lock.
            # Signal handlers only record, so nothing runs between starting the child and registering it.
            run.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                           env=env, pass_fds=(run.lock.fileno(),), start_new_session=True)
            self.running[slot] = run
        gpu = f" on GPU {env['CUDA_VISIBLE_DEVICES']}" if self.gpus else ""
        print(f"{run.label}: training{gpu} ({time.perf_counter() - self.start:.0f} s into the sweep)", flush=True)

    def _finish(self, slot):
        run = self.running.pop(slot)
        code = run.process.returncode
        run.release()
        log_path = os.path.join(run.run_dir, rundir.LOG_FILE)
        if code != 0:
            self.failed.append(f"{run.model} seed {run.seed}")
            print(f"{run.label}: FAILED (exit status {code}); the last lines of {log_path}:\n"
                  + "".join(f"    {line}" for line in tail(log_path).splitlines(keepends=True))
                  + f"{run.label}: going on", flush=True)
            return
        self.on_finished(run)

    def reap(self):
        """Ends the bookkeeping of every child that exited (releasing its run's lock)."""
        for slot in [s for s, r in self.running.items() if r.process.poll() is not None]:
            self._finish(slot)

    def take(self, run):
        """Starts `run` if it is unfinished and free: "done", "busy" (another process holds it) or "started"."""
        epochs = self.values["epochs"]
        if rundir.run_finished(run.run_dir, epochs):
            return "done"
        if not run.try_lock():
            return "busy"
        if rundir.run_finished(run.run_dir, epochs):  # finished while we looked
            run.release()
            return "done"
        self._launch(run, min(set(range(self.jobs)) - set(self.running)))
        return "started"

    def run(self):
        """Trains every run of the shard; raises `signals.StopRequested` when asked to stop."""
        pending, told = list(self.runs), set()
        while pending or self.running:
            signals.raise_if_stopped()
            self.reap()
            for run in list(pending):
                if len(self.running) >= self.jobs:
                    break
                outcome = self.take(run)
                if outcome == "busy":
                    if run.label not in told:
                        told.add(run.label)
                        print(f"{run.label}: another process is training it; back to it later", flush=True)
                    continue
                pending.remove(run)
                if outcome == "done":
                    print(f"{run.label}: {'finished by another process' if run.label in told else 'done before, skipped'}",
                          flush=True)
            time.sleep(POLL_SECONDS)

    def stop(self, signum):
        """Forwards `signum` to every training process, waits for each; returns what each reached."""
        for run in self.running.values():
            try:
                run.process.send_signal(signum)
            except ProcessLookupError:
                pass
        reached = []
        for run in self.running.values():
            run.process.wait()
            reached.append(f"epoch {rundir.epochs_on_disk(run.run_dir)} of {run.model} seed {run.seed}")
            run.release()
        self.running.clear()
        return reached

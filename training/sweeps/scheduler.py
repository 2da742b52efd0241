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

Two other locks are waited on for a bounded time only, and a stop signal
interrupts the wait (`locks.flocked`): a sweep stopped with Ctrl-Z while it
holds one delays the others, never stops them.

Stopping: the sweep's signal handlers only record (`run.signals`). The
scheduling loop sees the request, forwards the signal to every training
process it started and waits for each (they stop after their current
batch, checkpoint intact); one still running `STOP_GRACE_SECONDS` later is
killed. Any other exception in the loop stops the children the same way
before it propagates. A child is registered in the same uninterrupted step
that starts it, so none can be missed; each asks for SIGTERM should its
sweep die (`signals.stop_with_parent`). A training process that writes
nothing to its run's folder for `stall_seconds` is reported.
"""

import collections
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time

from constrained_zoo.atomic import write_json

from .. import settings
from ..run import rundir, signals
from ..run.console import LOG_CAPTURED_ENV
from . import locks

LOCK = ".lock"
RECIPE = "recipe.json"
TAIL_LINES = 20
POLL_SECONDS = 0.2
#: How long a training process has, after the stop signal, to stop before it is killed.
STOP_GRACE_SECONDS = 20.0


class Run:
    """One (model, seed) of the sweep, and its lock while this process trains it."""

    def __init__(self, index, total, model, seed, run_dir):
        self.index, self.total, self.model, self.seed, self.run_dir = index, total, model, seed, run_dir
        self.label = f"[{index}/{total}] {model} seed {seed}"
        self.lock = None
        self.process = None
        self.seen = self.written = None  # when its training process last showed progress; what it had written
        self.stalled = False

    def try_lock(self, optional=False):
        """Takes the run's lock without waiting; False if another process holds it.

        Where the file system refuses locks, raises `locks.LockUnsupported`,
        or with `optional` (one process per shard needs none) goes on unlocked.
        """
        os.makedirs(self.run_dir, exist_ok=True)
        try:
            self.lock = locks.try_lock(os.path.join(self.run_dir, LOCK))
        except locks.LockUnsupported:
            if not optional:
                raise
            return True
        return self.lock is not None

    def release(self):
        if self.lock is not None:
            self.lock.close()  # the training process closed its copy when it ended
            self.lock = None


@contextlib.contextmanager
def short_lock(path, optional=False, timeout=None):
    """`locks.flocked(path, timeout)`; with `optional`, no lock where the file system refuses locks."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(locks.flocked(path, timeout))
        except locks.LockUnsupported:
            if not optional:
                raise
        yield


def claim_recipe(out, values, title, optional_locks=False):
    """Writes `OUT/recipe.json` under the folder's lock, or refuses a recipe that differs from it.

    Of two sweeps with different recipes on an empty folder exactly one
    writes it; the other is refused with the settings that differ.
    """
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, RECIPE)
    with short_lock(os.path.join(out, ".sweep.lock"), optional_locks):
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
        stall_seconds: a training process that writes nothing to its run's folder
            for this long is reported (None: never).
        optional_locks: go on without run locks where the file system has none
            (one process per shard needs none).
    """

    def __init__(self, values, out, runs, jobs=1, gpus=(), on_finished=None, stall_seconds=None,
                 optional_locks=False):
        self.values, self.out, self.runs, self.jobs, self.gpus = values, out, runs, jobs, list(gpus)
        self.on_finished = on_finished or (lambda run: None)
        self.stall_seconds, self.optional_locks = stall_seconds, optional_locks
        self.running = {}  # job slot -> Run
        self.failed = []
        self.reached = []  # after a stop: what each run in progress reached
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
        env = {**job_environment(slot, self.gpus), LOG_CAPTURED_ENV: log_path, signals.PARENT_ENV: str(os.getpid())}
        try:
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}: {shlex.join(command)}\n")
                log.flush()
                # Its own session: a Ctrl-C reaches the sweep, which stops it once. It inherits the lock.
                # Signal handlers only record, so nothing runs between starting the child and registering it.
                run.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                               stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                               pass_fds=(run.lock.fileno(),) if run.lock else ())
                run.seen, run.written, run.stalled = time.monotonic(), last_written(run.run_dir), False
                self.running[slot] = run
        except BaseException:
            run.release()
            raise
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

    def watch(self):
        """Reports, once per silence, each training process that wrote nothing for `stall_seconds`."""
        if not self.stall_seconds:
            return
        now = time.monotonic()
        for run in self.running.values():
            written = last_written(run.run_dir)
            if written != run.written:
                run.seen, run.written, run.stalled = now, written, False  # progress since we last looked
            silent = now - run.seen
            if silent >= self.stall_seconds and not run.stalled:
                run.stalled = True
                print(f"{run.label}: no progress for {silent:.0f} s (nothing written to {run.run_dir}; "
                      f"pid {run.process.pid}): hung? `kill {run.process.pid}` ends it and the sweep goes on",
                      file=sys.stderr, flush=True)

    def take(self, run):
        """Starts `run` if it is unfinished and free: "done", "busy" (another process holds it) or "started"."""
        epochs = self.values["epochs"]
        if rundir.run_finished(run.run_dir, epochs):
            return "done"
        if not run.try_lock(self.optional_locks):
            return "busy"
        if rundir.run_finished(run.run_dir, epochs):  # finished while we looked
            run.release()
            return "done"
        self._launch(run, min(set(range(self.jobs)) - set(self.running)))
        return "started"

    def run(self):
        """Trains every run of the shard; raises `signals.StopRequested` when asked to stop.

        Whatever ends it early (a stop, any exception), every training
        process it started is stopped and reaped first (`self.reached`).
        """
        try:
            self._passes()
            signals.raise_if_stopped()  # a stop that came in the last pass
        except BaseException as error:
            self.reached = self.stop(error.signum if isinstance(error, signals.StopRequested) else signal.SIGTERM)
            raise

    def _passes(self):
        pending, told = list(self.runs), set()
        while pending or self.running:
            signals.raise_if_stopped()
            self.reap()
            self.watch()
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
        """Asks every training process to stop, waits for each (killing it after the grace); returns what each reached.

        SIGINT and SIGTERM are forwarded; SIGHUP and SIGQUIT become SIGTERM.
        """
        forward = signum if signum in (signal.SIGINT, signal.SIGTERM) else signal.SIGTERM
        for run in self.running.values():
            try:
                run.process.send_signal(forward)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        reached = []
        for run in self.running.values():
            try:
                run.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{run.label}: still running {STOP_GRACE_SECONDS:g} s after the stop signal; killed",
                      file=sys.stderr, flush=True)
                kill_group(run.process)
            reached.append(f"epoch {rundir.epochs_on_disk(run.run_dir)} of {run.model} seed {run.seed}")
            run.release()
        self.running.clear()
        return reached


def kill_group(process):
    """SIGKILLs `process` and whatever it started (its own process group), then reaps it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def last_written(run_dir):
    """The latest modification time of what a training process writes in `run_dir` (None if nothing yet)."""
    times = []
    for name in (rundir.LOG_FILE, "history.csv", os.path.join("checkpoints", "checkpoint.json")):
        try:
            times.append(os.stat(os.path.join(run_dir, name)).st_mtime)
        except OSError:
            pass
    return max(times, default=None)

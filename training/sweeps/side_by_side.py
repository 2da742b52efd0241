"""Sweeps side by side, each in its own process: the protocol driver's `--jobs`.

A protocol study (`training.sample_efficiency --protocol`) is a list of
chains, one per (size, condition, model): a sweep of the seeds at each
rate of the grid, then at each rung an edge that wins adds. The chains do
not depend on each other. One sweep at a time on J jobs leaves cores idle
while its last seeds train: 5 seeds on 2 jobs idle one core a sixth of the
time, 3 seeds a quarter. `run_chains` keeps up to J chains going instead,
each sweep in its own process with its share of the jobs and of the GPUs.
What each run computes does not change.

Stopping. A stop signal to the driver (Ctrl-C, SIGTERM) goes on to every
sweep in progress as SIGTERM, no new sweep starts, and the driver returns
128 + the signal once every sweep has stopped its runs (which resume when
the same command runs again). A sweep that ends with anything but 0 (done)
or 1 (a run failed, reported by the sweep) stops the others the same way
and its status is returned. An exception in a chain (the driver's own code)
stops the others the same way and is raised once they have stopped. A
driver killed outright takes its sweeps
with it: each asks the kernel for SIGTERM when its parent dies
(`signals.stop_with_parent`).
"""

import os
import signal
import subprocess
import sys
import threading

from ..run import signals

#: The sweep command each chain's sweeps run (tests put a stand-in here).
SWEEP_COMMAND = (sys.executable, "-m", "constrained_zoo.training.sweep")

_NOT_STARTED = -1  # what a chain's sweep returns once the driver is stopping


def shares(jobs, chains, gpus=()):
    """`(sweeps at once, jobs per sweep, [each slot's GPUs])` for `jobs` jobs over `chains` chains.

    Example:

    >>> shares(2, 24)
    (2, 1, [[], []])
    >>> shares(8, 2, ["0", "1", "2", "3"])  # two sweeps of 4 jobs, two GPUs each
    (2, 4, [['0', '2'], ['1', '3']])
    >>> shares(3, 10, ["0"])  # more slots than GPUs: they share it
    (3, 1, [['0'], ['0'], ['0']])
    """
    at_once = max(1, min(jobs, chains))
    gpus = list(gpus)
    each = [gpus[slot::at_once] or ([gpus[slot % len(gpus)]] if gpus else []) for slot in range(at_once)]
    return at_once, max(1, jobs // at_once), each


class _Slots:
    """The chains still to run and the sweep processes running, shared by the slots' threads."""

    def __init__(self, chains, jobs_per_sweep, command):
        self.chains = list(chains)
        self.jobs_per_sweep = jobs_per_sweep
        self.command = tuple(command)
        self.lock = threading.Lock()
        self.running = {}  # slot -> Popen
        self.stopping = False
        self.status = 0
        self.error = None  # an exception a chain raised (in a slot's thread)

    def take(self):
        with self.lock:
            if self.stopping or not self.chains:
                return None
            return self.chains.pop(0)

    def run_sweep(self, slot, env, argv):
        with self.lock:  # a stop either comes before the start (nothing starts) or finds the process
            if self.stopping:
                return _NOT_STARTED
            self.running[slot] = process = subprocess.Popen(
                [*self.command, *(str(a) for a in argv), "--jobs", str(self.jobs_per_sweep)],
                env=env, start_new_session=True)  # a Ctrl-C reaches the driver only; it passes it on
        try:
            code = process.wait()
            return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it
        finally:
            with self.lock:
                self.running.pop(slot, None)

    def stop(self, status):
        """No new sweep; SIGTERM to each running one. The first status given is the one returned."""
        with self.lock:
            if not self.stopping:
                self.stopping, self.status = True, status
            for process in self.running.values():
                try:
                    process.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def work(self, slot, env):
        try:
            while (chain := self.take()) is not None:
                code = chain(lambda argv: self.run_sweep(slot, env, argv))
                if code not in (0, 1):  # 1: a failed run, which its sweep reported
                    self.stop(code)
                    return
        except BaseException as error:  # pylint: disable=broad-exception-caught
            with self.lock:  # the first error is the one the driver raises, once every sweep has stopped
                self.error = self.error or error
            self.stop(1)


def run_chains(chains, jobs, gpus=(), command=None):
    """Runs `chains`, up to `jobs` at once, in order; returns the exit status (0, or a sweep's or a stop's).

    Args:
        chains: callables `chain(run_sweep)` that run their sweeps one after
            another through `run_sweep(argv)` (a sweep's arguments without
            `--jobs`; returns its exit status) and return an exit status.
        jobs: training processes at once, over all sweeps.
        gpus: GPU ids to share among the sweeps (`sweep.visible_gpus()`).
        command: the sweep command before its arguments (default: `SWEEP_COMMAND`).

    Raises:
        The first exception a chain raised, once every sweep in progress has
        stopped (the chains not yet started do not start).
    """
    at_once, per_sweep, gpu_shares = shares(jobs, len(chains), gpus)
    slots = _Slots(chains, per_sweep, command or SWEEP_COMMAND)
    threads = []
    for slot in range(at_once):
        env = {**os.environ, signals.PARENT_ENV: str(os.getpid())}
        if gpu_shares[slot]:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpu_shares[slot])
        threads.append(threading.Thread(target=slots.work, args=(slot, env), name=f"sweep slot {slot}", daemon=True))
    try:
        with signals.stop_on_signals():
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.1)
                    signals.raise_if_stopped()
    except signals.StopRequested as stop:
        slots.stop(stop.exit_status)
        for thread in threads:
            thread.join()
        print(f"stopped by signal {stop.signum}: every sweep in progress stopped its runs; the same command "
              f"resumes the study", file=sys.stderr, flush=True)
        return stop.exit_status
    if slots.error is not None:
        raise slots.error
    return slots.status

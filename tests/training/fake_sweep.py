"""`python -m constrained_zoo.training.sweep` with stand-in training processes and faults, for the stop-path tests.

    python -m tests.training.fake_sweep SWEEP-ARGS...

The sweep is the real one (its scheduling loop, signals, locks, children);
only what its children and its report do is replaced (and the model names
are taken as given, without importing Keras), by the environment:

- `FAKE_TRAINERS`: JSON `{"MODEL SEED": behaviour}`, for each run's training
  process (`tests/training/fake_train.py`): `finish` (results at once),
  `train` (writes its log until stopped), `silent` (writes nothing, stops on
  a signal), `deaf` (ignores SIGTERM), `missing` (a command that does not
  exist: `Popen` raises). Default `finish`.
- `FAKE_REPORT`: `ok` (default: results.md lists the finished runs) or
  `enospc` (the report raises `OSError(ENOSPC)`).
- `FAKE_FLOCK_ERRNO`: a name (`ENOSYS`, `ENOLCK`, `EBADF`): every `flock` fails so.
- `FAKE_SWEEP_LOG`: a file to which the sweep appends "start PID" as it
  begins and "end PID" as it returns (`fake_protocol.py`'s tests).
- `FAKE_GRACE`, `FAKE_REPORT_WAIT`, `FAKE_LOCK_WAIT`: seconds replacing
  `scheduler.STOP_GRACE_SECONDS`, `sweep.REPORT_WAIT_SECONDS` and
  `locks.SHORT_LOCK_SECONDS`.
"""

import errno
import json
import os
import sys
import types

from constrained_zoo.training import sweep
from constrained_zoo.training.sweeps import locks, scheduler


def _trainer(run_dir, epochs, behaviour):
    if behaviour == "missing":
        return [os.path.join(run_dir, "no-such-trainer")]
    return [sys.executable, "-m", "tests.training.fake_train", run_dir, str(epochs), behaviour]


def install():
    """Puts the stand-ins in place in this process (the sweep's children, report, model names, faults)."""
    behaviours = json.loads(os.environ.get("FAKE_TRAINERS", "{}"))
    scheduler.Sweep.command = lambda self, run: _trainer(
        run.run_dir, self.values["epochs"], behaviours.get(f"{run.model} {run.seed}", "finish"))

    def fake_report(runs, out, dataset, title):  # pylint: disable=unused-argument
        if os.environ.get("FAKE_REPORT") == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(out, "results.md"))
        rows = sorted(os.path.relpath(root, runs) for root, _, files in os.walk(runs) if "results.json" in files)
        with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
            f.write("".join(f"{row}\n" for row in rows))
        return rows

    # The sweep imports its report module when it writes the tables; this one stands in for it, so that a
    # sweep never imports Keras (seconds a process) for tables that list the finished runs.
    sys.modules["constrained_zoo.training.report"] = types.SimpleNamespace(write_report=fake_report)
    # The models' registry and the data checks import Keras (seconds): the runs are the patterns' names.
    sweep.select_models = lambda patterns, dataset: [p.strip() for p in patterns.split(",")]
    sweep.check = lambda values: None
    if os.environ.get("FAKE_FLOCK_ERRNO"):
        code = getattr(errno, os.environ["FAKE_FLOCK_ERRNO"])

        def refuse(*args):
            raise OSError(code, os.strerror(code))

        locks.fcntl.flock = refuse
    for name, module, attribute in (("FAKE_GRACE", scheduler, "STOP_GRACE_SECONDS"),
                                    ("FAKE_REPORT_WAIT", sweep, "REPORT_WAIT_SECONDS"),
                                    ("FAKE_LOCK_WAIT", locks, "SHORT_LOCK_SECONDS")):
        if name in os.environ:
            setattr(module, attribute, float(os.environ[name]))


def _log(event):
    if os.environ.get("FAKE_SWEEP_LOG"):
        with open(os.environ["FAKE_SWEEP_LOG"], "a", encoding="utf-8") as f:
            f.write(f"{event} {os.getpid()}\n")


def main(argv):
    install()
    _log("start")
    code = sweep.main(argv)
    _log("end")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

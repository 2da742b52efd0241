"""Train one zoo model on one dataset, resumably, and export it for serving.

    python -m constrained_zoo.training.train --model lenet5 --dataset fashion_mnist --epochs 10 --out runs/lenet5
    python -m constrained_zoo.training.train --model lenet5 --dataset fashion_mnist --epochs 10 --out runs/lenet5 --resume
    python -m constrained_zoo.training.evaluate runs/lenet5

The run directory receives `config.json` (every setting, the code's git
commit, library versions), `checkpoints/` (one complete checkpoint per
epoch, written atomically), `history.csv`, `tensorboard/`, `train.log`, and
at the end `model.keras`, `saved_model/` (`model.export()`, a `serve`
signature) and `results.json`. A run killed at any point, SIGKILL included,
continues from its last completed epoch with `--resume`; with the same seed
it ends where an uninterrupted run ends.

Stopping: Ctrl-C (SIGINT) or SIGTERM ends a run after the batch in
progress, with exit status 130 or 143 and one line, `stopped after epoch E;
continue with: COMMAND --resume`; the checkpoint is as complete as after a
SIGKILL.

The settings (`training/settings.py`) are the sweep's too. Scaling out:
`--strategy mirrored` uses every local GPU; `--strategy multiworker` runs
the same command on each machine with its own `TF_CONFIG`
(`training/run/distribute.py`).
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import os
import shlex
import sys
import traceback

from . import settings
from .run import fit, rundir, signals

DEFAULT_OUT = os.path.join("runs", "{model}-{dataset}-seed{seed}")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.train",
        description="Train a model of the zoo on a dataset, with checkpoints, resume and SavedModel export.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Example: python -m constrained_zoo.training.train --model lenet5 --dataset fashion_mnist --epochs 10",
    )
    settings.add_arguments(parser, "train")
    parser.add_argument("--out", default=DEFAULT_OUT, help="the run directory")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--overwrite", action="store_true", help="discard an existing run in --out")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="Keras's progress display: 0 silent, 1 a bar, 2 a line per epoch "
                             "(default: %(default)s, which means 1 on a terminal, 2 otherwise)")
    return parser


def resume_command(argv, out):
    """The command that continues this run: `argv` with `--resume`, without `--overwrite`, `--out` explicit."""
    argv = [a for a in argv if a not in ("--resume", "--overwrite")]
    if not any(a == "--out" or a.startswith("--out=") for a in argv):
        argv += ["--out", out]
    if os.path.exists(os.path.join(out, rundir.CONFIG)):
        argv.append("--resume")
    return settings.python_command("constrained_zoo.training.train", argv)


def run_of(args, argv):
    """The `fit.Run` of parsed `args`; a setting given twice (`--model-arg`) is a `UsageError`."""
    try:
        values = settings.values_of(args, "train")
    except settings.SettingsError as error:
        raise rundir.UsageError(str(error)) from None
    out = args.out
    if out == DEFAULT_OUT:
        out = DEFAULT_OUT.format(model=values["model"], dataset=values["dataset"], seed=values["seed"])
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    return fit.Run(values=values, out=out, resume=args.resume, overwrite=args.overwrite, verbose=verbose,
                   command=shlex.join(["python", "-m", "constrained_zoo.training.train", *argv]))


def main(argv=None):
    """The command line: exit status 0, 2 for a usage error, 130/143 when stopped by SIGINT/SIGTERM."""
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    run = None
    try:
        with signals.stop_on_signals():
            signals.stop_with_parent()
            run = run_of(args, argv)
            fit.run_steps(run)
    except rundir.UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except signals.StopRequested as stop:
        out = run.out if run else args.out
        epoch = rundir.epochs_on_disk(out)  # what --resume continues from
        print(f"stopped after epoch {epoch}; continue with: {resume_command(argv, out)}", file=sys.stderr, flush=True)
        return stop.exit_status
    except Exception:  # pylint: disable=broad-except
        traceback.print_exc()  # into train.log too
        return 1
    finally:
        if run is not None and run.log is not None:
            run.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train a set of zoo models with one recipe; report accuracy against parameters.

    python -m training.sweep --dataset mnist1d --models "*1d*" --epochs 30 --seeds 3 --out results/mnist1d
    python -m training.sweep --dataset fashion_mnist --models "cnn_*,lc_*" --epochs 10 --out results/fashion_mnist

Each (model, seed) trains in its own process (`python -m training.train`)
into `OUT/runs/MODEL/seedS/`; a run that finished is skipped and a run that
was interrupted resumes from its last epoch, so a killed sweep picks up where
it stopped. After every run `OUT/results.csv`, `results.md` and
`accuracy_vs_params.png` are rewritten (atomically) from all finished runs.
"""

import argparse
import fcntl
import os
import subprocess
import sys
import time

import models
from training.report import write_report
from training.train import run_finished


def select_models(patterns, dataset):
    """Models matching the comma-separated `patterns` that are meant for `dataset`."""
    names = models.list_models([p.strip() for p in patterns.split(",") if p.strip()])
    return [n for n in names if dataset in models.model_entry(n).datasets]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m training.sweep",
        description="Train zoo models with one shared recipe and report test accuracy against parameter count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--models", default="*", help="comma-separated wildcards over models.list_models()")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    parser.add_argument("--max-train-examples", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..K-1 per model")
    parser.add_argument("--augment", action="store_true")
    parser.add_argument("--pixel-shuffle", action="store_true")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", required=True, help="results directory, e.g. results/fashion_mnist")
    parser.add_argument("--title", default=None, help="the plot's title")
    parser.add_argument("--dry-run", action="store_true", help="list the runs and exit")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    names = select_models(args.models, args.dataset)
    if not names:
        print(f"error: no model matches --models {args.models!r} for dataset {args.dataset!r}; "
              f"see models.list_models().", file=sys.stderr)
        return 2
    runs = [(name, seed) for name in names for seed in range(args.seeds)]
    runs_dir = os.path.join(args.out, "runs")
    os.makedirs(args.out, exist_ok=True)
    lock = open(os.path.join(args.out, ".sweep.lock"), "w")  # held until the process exits
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"error: another sweep is writing to {args.out}; wait for it or stop it first.", file=sys.stderr)
        return 2
    print(f"sweep: {len(names)} models × {args.seeds} seed(s) = {len(runs)} runs on {args.dataset} -> {args.out}")
    if args.dry_run:
        for name, seed in runs:
            print(f"  {name} seed {seed}")
        return 0
    start = time.perf_counter()
    failed = []
    for i, (name, seed) in enumerate(runs, start=1):
        run_dir = os.path.join(runs_dir, name, f"seed{seed}")
        label = f"[{i}/{len(runs)}] {name} seed {seed}"
        if run_finished(run_dir, args.epochs):
            print(f"{label}: done before, skipped")
            continue
        command = [
            sys.executable, "-m", "training.train", "--model", name, "--dataset", args.dataset,
            "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
            "--learning-rate", str(args.learning_rate),
            "--lr-schedule", args.lr_schedule, "--seed", str(seed), "--out", run_dir, "--verbose", "2",
        ]
        for flag, value in (("--max-train-examples", args.max_train_examples), ("--data-dir", args.data_dir)):
            if value is not None:
                command += [flag, str(value)]
        command += ["--augment"] * args.augment + ["--pixel-shuffle"] * args.pixel_shuffle
        if os.path.exists(os.path.join(run_dir, "config.json")):
            command.append("--resume")
        print(f"{label}: training ({time.perf_counter() - start:.0f} s into the sweep)", flush=True)
        if subprocess.call(command) != 0:
            failed.append(f"{name} seed {seed}")
            print(f"{label}: FAILED (see above); going on", flush=True)
            continue
        rows = write_report(runs_dir, args.out, args.dataset, args.title)
        print(f"{label}: finished; {len(rows)} model(s) in {args.out}/results.md", flush=True)
    rows = write_report(runs_dir, args.out, args.dataset, args.title)
    if rows:
        with open(os.path.join(args.out, "results.md"), encoding="utf-8") as f:
            print(f.read())
    print(f"sweep finished in {time.perf_counter() - start:.0f} s; table {args.out}/results.md, "
          f"plot {args.out}/accuracy_vs_params.png")
    if failed:
        print(f"failed runs: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

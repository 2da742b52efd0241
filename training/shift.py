"""Test-time shift: each trained model's test accuracy on translated images.

    python -m training.shift results/fashion_mnist --shifts 0,1,2,3,4,6

loads every finished run's `saved_model` below `RESULTS/runs/` with
`tf.saved_model.load` (TensorFlow alone, as a server would), evaluates it on
the run's own test split shifted right by each number of pixels
(`training.variants.shift_images`: zero fill, no wrap), and writes, atomically,
`RESULTS/shift.csv` (one row per run and shift), `RESULTS/shift.md` (mean
over seeds, one row per model) and `RESULTS/accuracy_vs_shift.png` (one line
per model, one colour per family).

Each run's accuracies are also kept next to its `results.json`, in
`shift.json` (`{"shift_accuracy": {"0": ..., "1": ...}}`), and are reused:
a shift already measured is not measured again (`--force` measures it
anew), so an interrupted experiment continues where it stopped, and the
tables can be rebuilt from a committed results folder, which holds no
weights, with later runs added: a run without a SavedModel counts when its
`shift.json` holds every shift asked for.

This is the §7.1 question "what does translation invariance buy?" asked of
trained networks: a fully connected or locally connected layer has no reason
to recognize an object a few pixels away from where it saw it; a shared
kernel computes the same features wherever they are, and pooling forgets a
little of where. Models trained with `--augment` have seen shifts of up to
2 pixels; the sweep this is meant for trains without.
"""

import argparse
import csv
import io
import json
import os
import statistics
import sys

import numpy as np

from .run.atomic import atomic_path, json_safe, write_text
from .sweeps.plots import FAMILY_COLORS
from .sweeps.results import FAMILY_ORDER

COLUMNS = ("model", "family", "trainable_params", "seed", "shift", "test_accuracy")


STORED = "shift.json"


def run_dirs(results_dir):
    """Finished runs (a `results.json`) below `results_dir/runs`, sorted."""
    found = []
    for root, dirs, files in os.walk(os.path.join(results_dir, "runs")):
        if "results.json" in files:
            found.append(root)
        dirs[:] = [d for d in dirs if d not in ("saved_model", "checkpoints", "tensorboard")]
    return sorted(found)


def stored_shifts(run_dir):
    """`{shift: test accuracy}` kept in the run's `shift.json`; `{}` if there is none."""
    path = os.path.join(run_dir, STORED)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return {int(s): float(a) for s, a in json.load(f)["shift_accuracy"].items()}


def store_shifts(run_dir, accuracies):
    """Writes `{shift: accuracy}` to the run's `shift.json`, atomically."""
    body = {"shift_accuracy": {str(s): accuracies[s] for s in sorted(accuracies)}}
    write_text(os.path.join(run_dir, STORED), json.dumps(json_safe(body), indent=2, allow_nan=False) + "\n")


def run_shifts(run_dir, shifts, force=False):
    """`{shift: accuracy}` for `shifts`: stored ones reused, the rest measured and stored.

    Raises:
        ValueError: if a shift must be measured and the run has no
            SavedModel, or the run is of a variant (see `evaluate_shifts`).
    """
    stored = stored_shifts(run_dir)
    known = {} if force else stored
    missing = [s for s in shifts if s not in known]
    if missing:
        if not os.path.isdir(os.path.join(run_dir, "saved_model")):
            raise ValueError(f"{run_dir!r} has no saved_model and no stored accuracy for shifts {missing}")
        known = {**stored, **evaluate_shifts(run_dir, missing)}
        store_shifts(run_dir, known)
    return {s: known[s] for s in shifts}


def evaluate_shifts(run_dir, shifts, batch_size=1000):
    """`{shift: test accuracy}` of the run's SavedModel on shifted test images."""
    import tensorflow as tf

    from .data.sources import load_arrays
    from .data.variants import shift_images

    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        args = json.load(f)["args"]
    if args.get("pixel_shuffle") or args.get("shift"):
        raise ValueError(f"{run_dir!r} was trained or tested on a variant (pixel shuffle or shift); "
                         "the shift experiment needs plain runs.")
    served = tf.saved_model.load(os.path.join(run_dir, "saved_model"))
    _, (x_test, y_test) = load_arrays(args["dataset"], data_dir=args.get("data_dir"))  # as training.data does
    accuracies = {}
    for shift in shifts:
        x = shift_images(x_test, shift)
        correct = 0
        for start in range(0, len(x), batch_size):
            logits = served.serve(tf.constant(x[start:start + batch_size])).numpy()
            correct += int(np.sum(np.argmax(logits, axis=-1) == y_test[start:start + batch_size]))
        accuracies[shift] = correct / len(x)
    return accuracies


def to_csv(records):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({**r, "test_accuracy": f"{r['test_accuracy']:.6g}"})
    return buffer.getvalue()


def summarize(records):
    """One row per model: `accuracy[shift]`, the mean over seeds."""
    by_model = {}
    for r in records:
        row = by_model.setdefault(
            r["model"], {"model": r["model"], "family": r["family"], "trainable_params": r["trainable_params"], "runs": {}}
        )
        row["runs"].setdefault(r["shift"], []).append(r["test_accuracy"])
    rows = []
    for row in by_model.values():
        runs = row.pop("runs")
        row["accuracy"] = {s: statistics.fmean(v) for s, v in sorted(runs.items())}
        row["seeds"] = max(len(v) for v in runs.values())
        rows.append(row)
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["family"], 99), r["trainable_params"], r["model"]))
    return rows


def to_markdown(rows, shifts):
    last = max(shifts)
    lines = [
        "| model | family | parameters | " + " | ".join(f"{s} px" for s in shifts) + f" | change at {last} px (points) |",
        "|---|---|---:|" + "---:|" * len(shifts) + "---:|",
    ]
    for r in rows:
        acc = r["accuracy"]
        cells = " | ".join(f"{acc[s]:.4f}" for s in shifts)
        lines.append(
            f"| {r['model']} | {r['family']} | {r['trainable_params']:,} | {cells} | {100 * (acc[last] - acc[0]):+.1f} |"
        )
    lines += ["", "Test images shifted right by that many pixels (zero fill); mean over seeds."]
    return "\n".join(lines) + "\n"


def plot(rows, shifts, path, title=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    labelled = set()
    for r in rows:
        family = r["family"]
        ax.plot(
            shifts, [r["accuracy"][s] for s in shifts], marker="o", markersize=3, linewidth=1.2,
            color=FAMILY_COLORS.get(family, "black"), label=None if family in labelled else family,
        )
        labelled.add(family)
        ax.annotate(r["model"], (shifts[-1], r["accuracy"][shifts[-1]]), fontsize=6, xytext=(3, 0),
                    textcoords="offset points", va="center")
    ax.set_xlabel("test-time shift (pixels, to the right)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or "Accuracy against a test-time shift, per family")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def _parse_shifts(text):
    try:
        shifts = sorted({int(s) for s in text.split(",") if s.strip()})
    except ValueError:
        shifts = []
    if not shifts or shifts[0] < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated pixel counts >= 0, e.g. 0,1,2,4; got {text!r}")
    if shifts[0] != 0:
        shifts = [0, *shifts]  # the unshifted accuracy is what a change is measured from
    return shifts


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m training.shift",
        description="Test accuracy of every finished run of a results folder on test images shifted by N pixels.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("results_dir", help="a folder written by python -m training.sweep, e.g. results/fashion_mnist")
    parser.add_argument("--shifts", type=_parse_shifts, default=_parse_shifts("0,1,2,3,4,6"),
                        help="comma-separated shifts in pixels (0 is always included)")
    parser.add_argument("--title", default=None, help="the plot's title")
    parser.add_argument("--force", action="store_true",
                        help="measure every shift again, even those stored in a run's shift.json")
    args = parser.parse_args(argv)
    runs = run_dirs(args.results_dir)
    if not runs:
        print(f"error: no finished run (a results.json) below {os.path.join(args.results_dir, 'runs')!r}; "
              "run python -m training.sweep first.", file=sys.stderr)
        return 2
    records, skipped = [], 0
    for i, run_dir in enumerate(runs, start=1):
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
            result = json.load(f)
        try:
            accuracies = run_shifts(run_dir, args.shifts, force=args.force)
        except ValueError as error:
            print(f"[{i}/{len(runs)}] skipped: {error}", file=sys.stderr)
            skipped += 1
            continue
        print(f"[{i}/{len(runs)}] {result['model']} seed {result['seed']}: "
              + ", ".join(f"{s} px {a:.4f}" for s, a in accuracies.items()), flush=True)
        records += [
            {"model": result["model"], "family": result["family"], "trainable_params": result["trainable_params"],
             "seed": result["seed"], "shift": s, "test_accuracy": a}
            for s, a in accuracies.items()
        ]
    if not records:
        print("error: no run could be evaluated (see above); nothing written.", file=sys.stderr)
        return 2
    rows = summarize(records)
    write_text(os.path.join(args.results_dir, "shift.csv"), to_csv(records))
    table = to_markdown(rows, args.shifts)
    write_text(os.path.join(args.results_dir, "shift.md"), table)
    plot(rows, args.shifts, os.path.join(args.results_dir, "accuracy_vs_shift.png"), args.title)
    print(table, end="")
    print(f"wrote {args.results_dir}/shift.csv, shift.md, accuracy_vs_shift.png"
          + (f" ({skipped} of {len(runs)} runs skipped, see above)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Test-time shift: each trained model's test accuracy on translated images.

    python -m constrained_zoo.training.shift results/fashion_mnist --shifts 0,1,2,3,4,6

loads every finished run's `saved_model` below `RESULTS/runs/` with
`tf.saved_model.load` (TensorFlow alone, as a server would), evaluates it on
the run's own test split shifted right by each number of pixels
(`training.variants.shift_images`: zero fill, no wrap), and writes, atomically,
`RESULTS/shift.csv` (one row per run and shift), `RESULTS/shift.md` (mean
over seeds, one row per model) and `RESULTS/accuracy_vs_shift.png` (per
family, the mean over its models in a band from its lowest to its highest
model).

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

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import csv
import io
import json
import os
import statistics
import sys

import numpy as np

from constrained_zoo.atomic import atomic_path, write_json, write_text
from constrained_zoo.markdown import markdown_table
from constrained_zoo.models.architecture import count_text

from .sweeps.plots import FAMILY_COLORS
from .sweeps import shift_families
from .sweeps.results import FAMILY_ORDER, collect

COLUMNS = ("model", "family", "params", "trainable_params", "seed", "shift", "test_accuracy")


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
    write_json(os.path.join(run_dir, STORED), body, sort_keys=False)  # the shifts in numeric order


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
    from .data.split import SplitSettings
    from .data.variants import shift_images

    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        args = json.load(f)["args"]
    split = SplitSettings.from_config(args)
    if split.pixel_shuffle or split.shift:
        raise ValueError(f"{run_dir!r} was trained or tested on a variant (pixel shuffle or shift); "
                         "the shift experiment needs plain runs.")
    served = tf.saved_model.load(os.path.join(run_dir, "saved_model"))
    _, (x_test, y_test) = load_arrays(split.dataset, data_dir=args.get("data_dir"))  # as training.data does
    accuracies = {}
    for shift in shifts:
        x = shift_images(x_test, shift)
        correct = 0
        for start in range(0, len(x), batch_size):
            logits = served.serve(tf.constant(x[start:start + batch_size])).numpy()
            correct += int(np.sum(np.argmax(logits, axis=-1) == y_test[start:start + batch_size]))
        accuracies[shift] = correct / len(x)
    return accuracies


def records_of(result, accuracies):
    """One record (`COLUMNS`) per shift of a run: its `results.json` (`collect`) and `{shift: accuracy}`."""
    return [{"model": result["model"], "family": result["family"], "trainable_params": result["trainable_params"],
             "params": result["params"], "seed": result["seed"], "shift": s, "test_accuracy": a}
            for s, a in accuracies.items()]


def stored_records(results_dir, shifts):
    """The records of each finished run whose `shift.json` holds all of `shifts` (others left out, as `main` skips them).

    What the command tabulates, read back from a results folder without weights.
    """
    records = []
    for run_dir in run_dirs(results_dir):
        stored = stored_shifts(run_dir)
        if all(s in stored for s in shifts):
            [result] = collect(run_dir)  # with every weight counted (`params`)
            records += records_of(result, {s: stored[s] for s in shifts})
    return records


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
            r["model"], {"model": r["model"], "family": r["family"], "trainable_params": r["trainable_params"],
                         "params": r.get("params", r["trainable_params"]), "runs": {}})
        row["runs"].setdefault(r["shift"], []).append(r["test_accuracy"])
    rows = []
    for row in by_model.values():
        runs = row.pop("runs")
        row["accuracy"] = {s: statistics.fmean(v) for s, v in sorted(runs.items())}
        row["seeds"] = max(len(v) for v in runs.values())
        rows.append(row)
    rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["family"], 99), r["params"], r["model"]))
    return rows


def to_markdown(rows, shifts):
    last = max(shifts)
    header = ["model", "family", "weights (trainable)", "seeds", *(f"{s} px" for s in shifts),
              f"change at {last} px (points)"]
    cells = [[r["model"], r["family"], count_text(r), r["seeds"], *(f"{r['accuracy'][s]:.4f}" for s in shifts),
              f"{100 * (r['accuracy'][last] - r['accuracy'][0]):+.1f}"] for r in rows]
    note = ("Test images shifted right by that many pixels (zero fill); each row the mean over its seeds (a seed "
            "counts where its run's shifts were measured).")
    return markdown_table(header, cells, right=range(2, len(header))) + "\n\n" + note + "\n"


def figure(rows, shifts, title=None):
    """The plot of `plot`, as a `matplotlib.figure.Figure` (on an Agg canvas), not saved.

    One line per family, the mean over its models, in a band from the
    lowest to the highest of its models: with twenty models, single lines
    and their labels pile up where every family ends, near chance, while
    the families differ clearly. Each family is labelled at the line's end
    (`training/sweeps/plot_labels.py`, no two labels overlapping); a family of one model
    is named with it. The models' own numbers are in `shift.md`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = Figure(figsize=(8, 5.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    curves = shift_families.family_curves(rows, shifts)
    texts, ends, colors, segments = [], [], [], []
    for family, models, mean, low, high in curves:
        color = FAMILY_COLORS.get(family, "black")
        if len(models) > 1:
            ax.fill_between(shifts, low, high, color=color, alpha=0.15, linewidth=0)
        ax.plot(shifts, mean, marker="o", markersize=4, linewidth=2, color=color)
        texts.append(f"{family} ({len(models)} models)" if len(models) > 1 else f"{family}: {models[0]}")
        ends.append((shifts[-1], mean[-1]))
        colors.append(color)
        segments.append(list(zip(shifts, mean)))
    ax.set_xlabel("test-time shift (pixels, to the right)")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or "Accuracy against a test-time shift, per family")
    ax.grid(True, alpha=0.3)
    handles = [Line2D([], [], color="0.3", linewidth=2, marker="o", markersize=4,
                      label="a family: mean over its models (each the mean over its seeds)")]
    if any(len(models) > 1 for _, models, *_ in curves):
        handles.append(Patch(color="0.3", alpha=0.15, label="band: from its lowest to its highest model"))
    legend = ax.legend(handles=handles, loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.canvas.draw()
    _label_families(fig, ax, legend, shifts, texts, ends, colors, segments)
    return fig


def _label_families(fig, ax, legend, shifts, texts, ends, colors, segments):
    """Each family's label in a column right of the lines' ends, none overlapping (`labels`)."""
    from .sweeps import plot_labels as labels  # pylint: disable=import-outside-toplevel

    # Room on the right for the labels: the widest, and a gap, past the last shift.
    renderer = fig.canvas.get_renderer()
    sizes = []
    for text in texts:
        probe = ax.text(0, 0, text, fontsize=7, transform=ax.transAxes)
        extent = probe.get_window_extent(renderer)
        sizes.append((extent.width, extent.height))
        probe.remove()
    left, right = ax.get_xlim()
    share = min(0.6, (max(w for w, _ in sizes) + 32) / ax.get_window_extent(renderer).width)
    ax.set_xlim(left, (shifts[-1] - left * share) / (1 - share))
    ax.set_xticks(shifts)
    fig.canvas.draw()
    px = fig.dpi / 72
    to_px = ax.transData.transform
    obstacles = [tuple(legend.get_window_extent().extents)]
    obstacles += [labels.point_box(to_px(p), 3 * px) for line in segments for p in line]
    lines = [s for line in segments for s in labels.polyline([to_px(p) for p in line])]
    # A column right of the lines' ends, in the order of the ends (`labels.stack`); should a
    # label not fit there, it moves up or down from its end.
    frame = ax.get_window_extent(renderer)
    ys = [to_px(end)[1] for end in ends]
    centres = labels.stack(ys, [h + 2 for _, h in sizes], frame.y0 + 3, frame.y1 - 3)
    candidates = [
        [(18 * px, round(c - y, 3), "left", "center", 0 if abs(c - y) < 1 else 1)]
        + [(18 * px, dy, "left", "center", 2 + abs(dy) // 4) for dy in (0, *[sign * k * 4 for k in range(1, 60)
                                                                          for sign in (1, -1)])]
        for c, y in zip(centres, ys)
    ]
    labels.annotate(ax, texts, ends, candidates, obstacles, lines, colors=colors)


def plot(rows, shifts, path, title=None):
    """Accuracy against the test-time shift, one band per family (`figure`), saved to `path`."""
    fig = figure(rows, shifts, title)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")


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
        prog="python -m constrained_zoo.training.shift",
        description="Test accuracy of every finished run of a results folder on test images shifted by N pixels.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("results_dir", help="a folder written by python -m constrained_zoo.training.sweep, e.g. results/fashion_mnist")
    parser.add_argument("--shifts", type=_parse_shifts, default=_parse_shifts("0,1,2,3,4,6"),
                        help="comma-separated shifts in pixels (0 is always included)")
    parser.add_argument("--title", default=None, help="the plot's title")
    parser.add_argument("--force", action="store_true",
                        help="measure every shift again, even those stored in a run's shift.json")
    args = parser.parse_args(argv)
    runs = run_dirs(args.results_dir)
    if not runs:
        print(f"error: no finished run (a results.json) below {os.path.join(args.results_dir, 'runs')!r}; "
              "run python -m constrained_zoo.training.sweep first.", file=sys.stderr)
        return 2
    records, skipped = [], 0
    for i, run_dir in enumerate(runs, start=1):
        [result] = collect(run_dir)  # results.json, with every weight counted (`params`)
        try:
            accuracies = run_shifts(run_dir, args.shifts, force=args.force)
        except ValueError as error:
            print(f"[{i}/{len(runs)}] skipped: {error}", file=sys.stderr)
            skipped += 1
            continue
        print(f"[{i}/{len(runs)}] {result['model']} seed {result['seed']}: "
              + ", ".join(f"{s} px {a:.4f}" for s, a in accuracies.items()), flush=True)
        records += records_of(result, accuracies)
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

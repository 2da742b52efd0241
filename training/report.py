"""Results as data: aggregate run directories into a table and a plot.

`collect(runs_dir)` reads every `results.json` below `runs_dir` (with the
model overrides and the recipe of its `config.json`); `summarize` groups them
by (model, overrides, recipe), mean ± std over seeds, and never averages runs
of different recipes; `write_report` writes `results.csv`, `results.md` and
`accuracy_vs_params.png` atomically, the plot titled as the sweep's
`recipe.json` says unless a title is given.

A run's recipe is its training settings, config.json's `args` but
`NOT_RECIPE`: the seed (what is averaged over), the model and its overrides
(the other parts of the key), and the settings that say where or how fast
a run went, not what it learned: `out`, `resume`, `overwrite`, `verbose`,
`progress`, `data_dir`, `strategy`, `logical_cpus`, `deterministic`,
`jit_compile`, `steps_per_execution`. A setting a run's config.json lacks
(it predates the setting) takes its value in `RECIPE_DEFAULTS`, the one that
means what the code did before.
"""

import csv
import io
import json
import math
import os
import statistics
import textwrap

from training import identical, labels
from training.atomic import atomic_path, write_text

# Published reference points, drawn on the plot for comparison. These are
# other people's numbers, quoted with their source; nothing here is ours.
ANCHORS = {
    "fashion_mnist": [
        {"label": "2 Conv <100K (Fashion-MNIST README)", "params": 83_000, "accuracy": 0.925},
        {"label": "MLP 256-128-100 (Fashion-MNIST README)", "params": 248_000, "accuracy": 0.8833},
    ],
    "mnist1d": [
        {"label": "CNN (MNIST-1D paper)", "params": 5_210, "accuracy": 0.94},
        {"label": "GRU (MNIST-1D paper)", "params": None, "accuracy": 0.91},
        {"label": "MLP (MNIST-1D paper)", "params": None, "accuracy": 0.68},
    ],
}

FAMILY_ORDER = ("mlp", "fully_connected", "locally_connected", "shared_conv", "multi_channel_conv")
FAMILY_COLORS = {
    "mlp": "#7f7f7f",
    "fully_connected": "#d62728",
    "locally_connected": "#ff7f0e",
    "shared_conv": "#2ca02c",
    "multi_channel_conv": "#1f77b4",
}
COLUMNS = (
    "model", "family", "trainable_params", "test_accuracy_mean", "test_accuracy_std",
    "seeds", "epochs", "num_train", "train_seconds_mean", "best_val_accuracy_mean",
)
# Added to results.csv only for a folder with model overrides or several recipes.
EXTRA_COLUMNS = ("label", "model_args", "recipe")

NOT_RECIPE = (
    "seed", "model", "model_args", "out", "resume", "overwrite", "verbose", "progress", "data_dir",
    "strategy", "logical_cpus", "deterministic", "jit_compile", "steps_per_execution",
)
RECIPE_DEFAULTS = {
    "lr_schedule": "constant", "augment": False, "pixel_shuffle": False, "shift": 0, "max_train_examples": None,
    "validation_fraction": 0.1, "mixed_precision": None, "flip": False, "label_smoothing": 0.0, "weight_decay": 0.0,
}
RECIPE_FILE = "recipe.json"


def recipe_of(args):
    """A run's recipe: its config.json `args` but `NOT_RECIPE`, with `RECIPE_DEFAULTS` for the missing.

    Example:

    >>> recipe_of({"model": "cnn_small", "seed": 1, "epochs": 20, "out": "x", "jit_compile": True})["epochs"]
    20
    """
    recipe = {k: v for k, v in RECIPE_DEFAULTS.items()}
    recipe.update({k: v for k, v in args.items() if k not in NOT_RECIPE})
    return recipe


def collect(runs_dir):
    """Every finished run's results.json below `runs_dir`, as dicts.

    Each also gets `model_args` (the model overrides, {} for runs before
    `--model-arg`) and `recipe` (`recipe_of` its config.json's `args`; None
    without a config.json), read from the config.json beside it.
    """
    found = []
    for root, dirs, files in os.walk(runs_dir):
        dirs.sort()
        if "results.json" in files:
            with open(os.path.join(root, "results.json"), encoding="utf-8") as f:
                result = json.load(f)
            args = None
            if "config.json" in files:
                with open(os.path.join(root, "config.json"), encoding="utf-8") as f:
                    args = json.load(f).get("args")
            result["model_args"] = dict((args or {}).get("model_args") or {})
            result["recipe"] = recipe_of(args) if args is not None else None
            found.append(result)
    return found


def _std(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _key(value):
    return json.dumps(value, sort_keys=True)


def model_label(model, model_args):
    """`cnn_small`, or `cnn_small (delta=2, width=2)` with overrides."""
    if not model_args:
        return model
    return f"{model} ({', '.join(f'{k}={v}' for k, v in sorted(model_args.items()))})"


def summarize(results):
    """One row per (model, overrides, recipe): mean and std of test accuracy over seeds.

    Runs of different recipes are never averaged: they make different rows,
    labelled "model [recipe 2]" when a folder holds several (`recipes(rows)`
    lists them); with overrides the label names them, "cnn_small (delta=2)".
    """
    groups = {}
    for r in results:
        key = (r["model"], _key(r.get("model_args") or {}), _key(r.get("recipe")))
        groups.setdefault(key, []).append(r)
    recipe_ids = {k: i for i, k in enumerate(sorted({key[2] for key in groups}), start=1)}
    rows = []
    for (model, _, recipe_key), runs in groups.items():
        accuracies = [r["test_accuracy"] for r in runs]
        vals = [r["best_val_accuracy"] for r in runs if r.get("best_val_accuracy") is not None]
        label = model_label(model, runs[0].get("model_args"))
        if len(recipe_ids) > 1:
            label += f" [recipe {recipe_ids[recipe_key]}]"
        rows.append(
            {
                "model": model,
                "label": label,
                "model_args": runs[0].get("model_args") or {},
                "recipe": runs[0].get("recipe"),
                "recipe_id": recipe_ids[recipe_key],
                "family": runs[0]["family"],
                "trainable_params": runs[0]["trainable_params"],
                "test_accuracy_mean": statistics.fmean(accuracies),
                "test_accuracy_std": _std(accuracies),
                "seeds": len(runs),
                "epochs": runs[0]["epochs"],
                "num_train": runs[0]["num_train"],
                "train_seconds_mean": statistics.fmean(r["wall_time_seconds"] for r in runs),
                "best_val_accuracy_mean": statistics.fmean(vals) if vals else float("nan"),
            }
        )
    family_rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda r: (family_rank.get(r["family"], 99), r["trainable_params"], r["model"], r["label"]))
    return rows


def _label(row):
    return row.get("label", row["model"])


def recipes(rows):
    """`{recipe_id: recipe}` of the rows' recipes (one, in a folder a single sweep wrote)."""
    return {r.get("recipe_id", 1): r.get("recipe") for r in sorted(rows, key=lambda r: r.get("recipe_id", 1))}


def _recipe_notes(rows):
    """Markdown lines naming what differs between the recipes of `rows` (none for one recipe)."""
    found = recipes(rows)
    if len(found) < 2:
        return []
    keys = sorted({k for recipe in found.values() for k in (recipe or {})})
    differ = [k for k in keys if len({_key((recipe or {}).get(k)) for recipe in found.values()}) > 1]
    lines = ["", "Rows of different recipes are never averaged; they differ in:"]
    for i, recipe in found.items():
        detail = ", ".join(f"{k}={(recipe or {}).get(k)!r}" for k in differ) if recipe else "no config.json"
        lines.append(f"- recipe {i}: {detail}")
    return lines


def pareto_front(rows):
    """The rows no other row beats with fewer (or as many) parameters."""
    front, best = [], -math.inf
    for row in sorted(rows, key=lambda r: (r["trainable_params"], -r["test_accuracy_mean"])):
        if row["test_accuracy_mean"] > best:
            front.append(row)
            best = row["test_accuracy_mean"]
    return front


def to_csv(rows):
    """The rows as CSV: `COLUMNS`, plus `EXTRA_COLUMNS` when there are overrides or several recipes.

    A `same_as` column is added when a row's model computes the same
    function as another (`training.identical`).
    """
    extra = any(r.get("model_args") for r in rows) or len(recipes(rows)) > 1
    twins = identical.marks(rows)
    columns = COLUMNS + (EXTRA_COLUMNS if extra else ()) + (("same_as",) if twins else ())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = {**row, "label": _label(row), "model_args": _key(row.get("model_args") or {}),
               "recipe": row.get("recipe_id", 1), "same_as": twins.get(_label(row), "")}
        writer.writerow({k: (f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]) for k in columns})
    return buffer.getvalue()


def to_markdown(rows):
    front = {_label(r) for r in pareto_front(rows)}
    twins = identical.marks(rows)
    lines = [
        "| model | family | parameters | test accuracy | seeds | epochs | train examples | train time (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        star = (" ★" if _label(r) in front else "") + (f" {identical.MARK} {twins[_label(r)]}" if _label(r) in twins else "")
        spread = f" ± {r['test_accuracy_std']:.4f}" if r["seeds"] > 1 else ""
        lines.append(
            f"| {_label(r)}{star} | {r['family']} | {r['trainable_params']:,} | "
            f"{r['test_accuracy_mean']:.4f}{spread} | {r['seeds']} | {r['epochs']} | {r['num_train']:,} | "
            f"{r['train_seconds_mean']:.0f} |"
        )
    lines.append("")
    lines.append("★: on the Pareto frontier (no model with as few or fewer parameters is more accurate).")
    lines += identical.footnotes(rows)
    lines += _recipe_notes(rows)
    return "\n".join(lines) + "\n"


def matched_budgets(rows, budgets):
    """Each family's best model within each parameter budget, as Markdown.

    "Best" is chosen by validation accuracy (`best_val_accuracy_mean`), never
    by test accuracy; the cell shows that model's test accuracy and name.
    The §7.1 question in one table: with the same number of parameters, what
    does each constraint buy?

    Args:
        rows: `summarize(...)` rows.
        budgets: parameter counts, e.g. (10_000, 60_000, 250_000).
    """
    families = [f for f in FAMILY_ORDER if any(r["family"] == f for r in rows)]
    families += sorted({r["family"] for r in rows} - set(families))
    lines = [
        "| budget (parameters) | " + " | ".join(families) + " |",
        "|---:|" + "---|" * len(families),
    ]
    for budget in budgets:
        cells = []
        for family in families:
            within = [r for r in rows if r["family"] == family and r["trainable_params"] <= budget]
            if not within:
                cells.append("—")
                continue
            best = max(within, key=lambda r: (r["best_val_accuracy_mean"], -r["trainable_params"]))
            cells.append(f"{best['test_accuracy_mean']:.4f} ({_label(best)}, {best['trainable_params']:,})")
        lines.append(f"| ≤ {budget:,} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: test accuracy of the family's model with the best validation accuracy within the budget."]
    lines += _recipe_notes(rows)
    return "\n".join(lines) + "\n"


def figure(rows, dataset, title=None):
    """The plot of `plot`, as a `matplotlib.figure.Figure` (on an Agg canvas), not saved.

    Labels are placed by `training.labels` (none overlaps another, a marker,
    an error bar or the legend, and all stay inside the axes); its
    annotations are `fig.axes[0].texts`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    texts, points, colors, candidates, obstacles, lines, leaders = [], [], [], [], [], [], []
    for family in FAMILY_ORDER:
        members = [r for r in rows if r["family"] == family]
        if not members:
            continue
        color = FAMILY_COLORS[family]
        ax.errorbar(
            [r["trainable_params"] for r in members],
            [r["test_accuracy_mean"] for r in members],
            yerr=[r["test_accuracy_std"] for r in members],
            fmt="o", color=color, capsize=3,
        )
        best = pareto_front(members)
        ax.plot([r["trainable_params"] for r in best], [r["test_accuracy_mean"] for r in best],
                "-", color=color, label=family)
        lines.append([(r["trainable_params"], r["test_accuracy_mean"]) for r in best])
        for r in members:
            texts.append(identical.plot_label(r))
            points.append((r["trainable_params"], r["test_accuracy_mean"]))
            colors.append("black")
    front = pareto_front(rows)
    if front:
        ax.step([r["trainable_params"] for r in front], [r["test_accuracy_mean"] for r in front],
                where="post", color="black", linestyle="--", linewidth=1, label="Pareto frontier")
        steps = [(front[0]["trainable_params"], front[0]["test_accuracy_mean"])]
        for a, b in zip(front, front[1:]):
            steps += [(b["trainable_params"], a["test_accuracy_mean"]), (b["trainable_params"], b["test_accuracy_mean"])]
        lines.append(steps)
    stars, captions = [], []
    for anchor in ANCHORS.get(dataset, []):
        if anchor["params"]:
            ax.scatter([anchor["params"]], [anchor["accuracy"]], marker="*", s=150, color="gold",
                       edgecolor="black", zorder=5)
            stars.append((anchor["params"], anchor["accuracy"]))
            captions.append((anchor["label"], (anchor["params"], anchor["accuracy"]), "star"))
        else:
            ax.axhline(anchor["accuracy"], color="gray", linestyle=":", linewidth=1)
            captions.append((f" {anchor['label']}", anchor["accuracy"], "line"))
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title(textwrap.fill(title or f"{dataset}: what each constraint buys per parameter", 90))
    ax.grid(True, which="both", alpha=0.3)
    ax.margins(x=0.08, y=0.08)
    legend = ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.canvas.draw()
    # In display pixels from here on: the layout is final.
    px = 1.0 / 72 * fig.dpi
    to_px = ax.transData.transform
    obstacles.append(tuple(legend.get_window_extent().extents))
    for r in rows:
        x, y = to_px((r["trainable_params"], r["test_accuracy_mean"]))
        _, low = to_px((r["trainable_params"], r["test_accuracy_mean"] - r["test_accuracy_std"]))
        _, high = to_px((r["trainable_params"], r["test_accuracy_mean"] + r["test_accuracy_std"]))
        obstacles.append(labels.point_box((x, y), 4 * px))  # the marker, 6 points wide
        obstacles.append((x - 3 * px, low - 1, x + 3 * px, high + 1))  # the error bar and its caps
    for star in stars:
        obstacles.append(labels.point_box(to_px(star), 7 * px))
    segments = [s for line in lines for s in labels.polyline([to_px(p) for p in line])]
    near = labels.around(5 * px)
    left = ax.get_xlim()[0]
    for text, where, kind in captions:  # the public references first: the longest labels
        if kind == "star":
            options = labels.around(8 * px)
            point = where
        else:  # along its line, above or below, from the left edge
            point = (left, where)
            options = [(dx, dy, "left", va, 0 if dx == 2 else 1) for dx in range(2, 400, 20)
                       for dy, va in ((1, "bottom"), (-1, "top"))]
        texts.insert(0, text)
        points.insert(0, point)
        colors.insert(0, "dimgray")
        candidates.insert(0, options)
        leaders.insert(0, kind == "star")
    leaders += [True] * (len(texts) - len(leaders))
    candidates += [near] * (len(texts) - len(candidates))
    labels.annotate(ax, texts, points, candidates, obstacles, segments, colors=colors, leaders=leaders)
    return fig


def plot(rows, dataset, path, title=None):
    """Test accuracy against parameters (log axis), per family, with anchors; saved to `path`.

    Every model is a point (with its std over seeds); each family's line
    joins its own Pareto frontier, the best the family reaches at each
    budget, so that a family holding several designs (LeNet-5 beside the
    zoo's CNNs) is still one curve. A model that computes the same function
    as another is labelled so ("fc1d_small (same function as mlp_1d_small)").
    """
    fig = figure(rows, dataset, title)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)


def recipe_title(out_dir):
    """The plot title the sweep recorded in `OUT/recipe.json` (its `--title`), or None."""
    path = os.path.join(out_dir, RECIPE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        recipe = json.load(f)
    return recipe.get("title") or (recipe.get("args") or {}).get("title")


def write_report(runs_dir, out_dir, dataset, title=None):
    """Writes results.csv, results.md and accuracy_vs_params.png; returns rows.

    Args:
        runs_dir: where the runs are (`OUT/runs`).
        out_dir: where the files go (`OUT`).
        dataset: for the plot's anchors.
        title: the plot's title; default: the sweep's, from `OUT/recipe.json`.
    """
    rows = summarize(collect(runs_dir))
    if not rows:
        return rows
    write_text(os.path.join(out_dir, "results.csv"), to_csv(rows))
    write_text(os.path.join(out_dir, "results.md"), to_markdown(rows))
    plot(rows, dataset, os.path.join(out_dir, "accuracy_vs_params.png"), title or recipe_title(out_dir))
    return rows


def compare(base_dir, variant_dir):
    """Markdown table of each model's accuracy in two result folders.

    E.g. MNIST-1D against pixel-shuffled MNIST-1D: the drop, in points,
    that the variant costs each model (the MNIST-1D paper's spatial-prior
    experiment).
    """
    base = {r["label"]: r for r in summarize(collect(os.path.join(base_dir, "runs")))}
    variant = {r["label"]: r for r in summarize(collect(os.path.join(variant_dir, "runs")))}
    lines = [
        f"| model | family | parameters | {os.path.basename(base_dir.rstrip('/'))} | "
        f"{os.path.basename(variant_dir.rstrip('/'))} | change (points) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in [m for m in variant if m in base]:
        b, v = base[name], variant[name]
        lines.append(
            f"| {name} | {b['family']} | {b['trainable_params']:,} | {b['test_accuracy_mean']:.4f} | "
            f"{v['test_accuracy_mean']:.4f} | {100 * (v['test_accuracy_mean'] - b['test_accuracy_mean']):+.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m training.report",
        description="Re-render a results folder's table and plot, or compare two results folders.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("results_dir", help="e.g. results/mnist1d (its runs/ holds the runs)")
    parser.add_argument("--dataset", default=None, help="for the plot's anchors (default: the folder's name)")
    parser.add_argument("--title", default=None, help="the plot's title (default: the sweep's, from OUT/recipe.json)")
    parser.add_argument("--compare", default=None, help="a second results folder: print the change per model")
    parser.add_argument("--budgets", default=None,
                        help="comma-separated parameter budgets, e.g. 10000,60000,250000: also write "
                             "matched_budgets.md, each family's best model (by validation) within each")
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(args.results_dir, args.compare), end="")
        return 0
    dataset = args.dataset or os.path.basename(args.results_dir.rstrip("/"))
    rows = write_report(os.path.join(args.results_dir, "runs"), args.results_dir, dataset, args.title)
    print(to_markdown(rows), end="")
    if args.budgets:
        try:
            budgets = [int(float(b)) for b in args.budgets.split(",") if b.strip()]
        except ValueError:
            parser.error(f"--budgets expects comma-separated parameter counts; received {args.budgets!r}")
        table = matched_budgets(rows, budgets)
        write_text(os.path.join(args.results_dir, "matched_budgets.md"), table)
        print("\n" + table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Results as data: aggregate run directories into a table and a plot.

`collect(runs_dir)` reads every `results.json` below `runs_dir`;
`summarize` groups them by model (mean ± std over seeds); `write_report`
writes `results.csv`, `results.md` and `accuracy_vs_params.png` atomically.
"""

import csv
import io
import json
import math
import os
import statistics

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


def collect(runs_dir):
    """Every finished run's results.json below `runs_dir`, as dicts."""
    found = []
    for root, _, files in os.walk(runs_dir):
        if "results.json" in files:
            with open(os.path.join(root, "results.json"), encoding="utf-8") as f:
                found.append(json.load(f))
    return found


def _std(values):
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarize(results):
    """One row per model: mean and std of test accuracy over seeds."""
    by_model = {}
    for r in results:
        by_model.setdefault(r["model"], []).append(r)
    rows = []
    for model, runs in by_model.items():
        accuracies = [r["test_accuracy"] for r in runs]
        vals = [r["best_val_accuracy"] for r in runs if r.get("best_val_accuracy") is not None]
        rows.append(
            {
                "model": model,
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
    rows.sort(key=lambda r: (family_rank.get(r["family"], 99), r["trainable_params"], r["model"]))
    return rows


def pareto_front(rows):
    """The rows no other row beats with fewer (or as many) parameters."""
    front, best = [], -math.inf
    for row in sorted(rows, key=lambda r: (r["trainable_params"], -r["test_accuracy_mean"])):
        if row["test_accuracy_mean"] > best:
            front.append(row)
            best = row["test_accuracy_mean"]
    return front


def to_csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]) for k in COLUMNS})
    return buffer.getvalue()


def to_markdown(rows):
    front = {r["model"] for r in pareto_front(rows)}
    lines = [
        "| model | family | parameters | test accuracy | seeds | epochs | train examples | train time (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        star = " ★" if r["model"] in front else ""
        spread = f" ± {r['test_accuracy_std']:.4f}" if r["seeds"] > 1 else ""
        lines.append(
            f"| {r['model']}{star} | {r['family']} | {r['trainable_params']:,} | "
            f"{r['test_accuracy_mean']:.4f}{spread} | {r['seeds']} | {r['epochs']} | {r['num_train']:,} | "
            f"{r['train_seconds_mean']:.0f} |"
        )
    lines.append("")
    lines.append("★: on the Pareto frontier (no model with as few or fewer parameters is more accurate).")
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
            cells.append(f"{best['test_accuracy_mean']:.4f} ({best['model']}, {best['trainable_params']:,})")
        lines.append(f"| ≤ {budget:,} | " + " | ".join(cells) + " |")
    lines += ["", "Each cell: test accuracy of the family's model with the best validation accuracy within the budget."]
    return "\n".join(lines) + "\n"


def plot(rows, dataset, path, title=None):
    """Test accuracy against parameters (log axis), per family, with anchors.

    Every model is a point (with its std over seeds); each family's line
    joins its own Pareto frontier, the best the family reaches at each
    budget, so that a family holding several designs (LeNet-5 beside the
    zoo's CNNs) is still one curve.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
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
        for r in members:
            ax.annotate(r["model"], (r["trainable_params"], r["test_accuracy_mean"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    front = pareto_front(rows)
    if front:
        ax.step([r["trainable_params"] for r in front], [r["test_accuracy_mean"] for r in front],
                where="post", color="black", linestyle="--", linewidth=1, label="Pareto frontier")
    for anchor in ANCHORS.get(dataset, []):
        if anchor["params"]:
            ax.scatter([anchor["params"]], [anchor["accuracy"]], marker="*", s=150, color="gold",
                       edgecolor="black", zorder=5)
            ax.annotate(anchor["label"], (anchor["params"], anchor["accuracy"]), fontsize=7,
                        xytext=(-8, 6), textcoords="offset points", ha="right")
        else:
            ax.axhline(anchor["accuracy"], color="gray", linestyle=":", linewidth=1)
            ax.text(0.01, anchor["accuracy"], f" {anchor['label']}", fontsize=7, color="dimgray",
                    transform=ax.get_yaxis_transform(), va="bottom")
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or f"{dataset}: what each constraint buys per parameter")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def write_report(runs_dir, out_dir, dataset, title=None):
    """Writes results.csv, results.md and accuracy_vs_params.png; returns rows."""
    rows = summarize(collect(runs_dir))
    if not rows:
        return rows
    write_text(os.path.join(out_dir, "results.csv"), to_csv(rows))
    write_text(os.path.join(out_dir, "results.md"), to_markdown(rows))
    plot(rows, dataset, os.path.join(out_dir, "accuracy_vs_params.png"), title)
    return rows


def compare(base_dir, variant_dir):
    """Markdown table of each model's accuracy in two result folders.

    E.g. MNIST-1D against pixel-shuffled MNIST-1D: the drop, in points,
    that the variant costs each model (the MNIST-1D paper's spatial-prior
    experiment).
    """
    base = {r["model"]: r for r in summarize(collect(os.path.join(base_dir, "runs")))}
    variant = {r["model"]: r for r in summarize(collect(os.path.join(variant_dir, "runs")))}
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
    )
    parser.add_argument("results_dir", help="e.g. results/mnist1d (its runs/ holds the runs)")
    parser.add_argument("--dataset", default=None, help="for the plot's anchors (default: the folder's name)")
    parser.add_argument("--title", default=None, help="the plot's title")
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

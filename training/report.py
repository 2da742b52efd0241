"""Re-render a results folder's table and plot, or compare two folders: `python -m constrained_zoo.training.report`.

    python -m constrained_zoo.training.report results/mnist1d
    python -m constrained_zoo.training.report results/fashion_mnist --budgets 15000,60000,250000
    python -m constrained_zoo.training.report results/mnist1d --compare results/mnist1d_shuffled

The table groups runs by (model, overrides, recipe) and averages over seeds
(`training/sweeps/results.py`); the plot is `training/sweeps/plots.py`'s.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import os

from constrained_zoo import arguments
from constrained_zoo.atomic import write_text

from .sweeps.plots import plot
from .sweeps.results import collect, compare, matched_budgets, recipe_title, summarize, to_csv, to_markdown


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


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.report",
        description="Re-render a results folder's table and plot, or compare two results folders.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("results_dir", help="e.g. results/mnist1d (its runs/ holds the runs)")
    parser.add_argument("--dataset", default=None, help="for the plot's anchors (default: the folder's name)")
    parser.add_argument("--title", default=None, help="the plot's title (default: the sweep's, from OUT/recipe.json)")
    parser.add_argument("--compare", default=None, help="a second results folder: print the change per model")
    parser.add_argument("--budgets", type=arguments.budgets, default=None,
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
        table = matched_budgets(rows, args.budgets)
        write_text(os.path.join(args.results_dir, "matched_budgets.md"), table)
        print("\n" + table, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

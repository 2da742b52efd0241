"""The frontier's goals, each against the best public figure found: `frontier_table(root, dataset)`.

Each goal names one model (with its overrides) and the results folders of
its candidate recipes. The recipe is the folder of best mean validation
accuracy over the seeds every candidate has (`training.lr_grid.choose`);
the test split only measures the chosen folder's runs. A goal is met when
that mean test accuracy reaches the target with at least the seeds asked
and no more parameters than the budget.

The public figures are the best we found at or under each budget when the
goals were set, with their sources.
"""

import collections
import csv
import os
import statistics

from .results import collect, comparable, mean_std, model_label

#: One goal: the dataset, its parameter budget, target accuracy and seeds, the model and its recipes' folders.
Goal = collections.namedtuple("Goal", "dataset budget target seeds label folders public")

_MNIST1D_SEARCH = "results/mnist1d_frontier_search"
_RECIPES = ("table", "cosine150", "cosine150_augment", "cosine150_augment_wd")
# Distillation from the <=25k recipe's run of the same seed (T = 4; the teacher's share of the loss 0.5 or 0.9).
_DISTILLED = ("distill_T4_a0.5", "distill_T4_a0.9")

GOALS = (
    Goal("mnist1d", 2_000, 0.985, 5, "cnn1d_bn_5k (width=0.6)",
         tuple(f"{_MNIST1D_SEARCH}/{r}_w0.6" for r in _RECIPES + _DISTILLED),
         "none documented under 2k; 0.94 at 5,210 (the MNIST-1D paper's CNN)"),
    Goal("mnist1d", 25_000, 0.99, 3, "cnn1d_bn_5k (width=2.2)",
         tuple(f"{_MNIST1D_SEARCH}/{r}_w2.2" for r in _RECIPES),
         "0.987 at 26k (a ResNet1D, one seed); 0.989 at 104k (a TCN, one seed)"),
    Goal("fashion_mnist", 50_000, 0.935, 3, "cnn_bn_50k",
         ("results/fashion_mnist", "results/fashion_mnist_augment", "results/fashion_mnist_frontier",
          "results/fashion_mnist_frontier60"),
         "0.9247 at 83k (hardmaru's tiny CNN, Fashion-MNIST README); 0.9259 at 94k"),
    Goal("fashion_mnist", 10_000, 0.915, 3, "cnn_bn_10k",
         ("results/fashion_mnist", "results/fashion_mnist_frontier", "results/fashion_mnist_augment40",
          "results/fashion_mnist_augment80"),
         "0.89 to 0.90 at 7k to 15k (parameter-efficiency leaderboards)"),
)


#: How the goals' figures here were found: validation chose among candidates, but test decided when to stop.
SEARCH_READ_TEST = "a search that read test"


def _runs_by_folder(root, goal):
    wanted = goal.label.replace(" ", "")
    found = {}
    for folder in goal.folders:
        runs = [r for r in collect(os.path.join(root, folder, "runs"))
                if model_label(r["model"], r.get("model_args")).replace(" ", "") == wanted]
        if runs:
            found[os.path.basename(folder)] = runs
    return found


def outcome(root, goal):
    """`(chosen folder, validation, runs)` of one goal, or None when no candidate has finished a run."""
    from ..lr_grid import choose  # pylint: disable=import-outside-toplevel

    by_folder = _runs_by_folder(root, goal)
    if not by_folder:
        return None
    chosen, validation = choose(by_folder, order=list(by_folder))
    return chosen, validation[chosen], by_folder[chosen]


def frontier_table(root, dataset, goals=GOALS):
    """The goals of `dataset` as Markdown: the chosen recipe's test accuracy, met or not, the public figure."""
    lines = ["| goal | model | weights (trainable) | recipe (chosen on validation) | test accuracy | seeds | met | "
             "how it was found | best public figure found |", "|---|---|---:|---|---:|---:|---|---|---|"]
    for goal in (g for g in goals if g.dataset == dataset):
        found = outcome(root, goal)
        head = f"≥ {goal.target:g} with ≤ {goal.budget:,} ({goal.seeds} seeds)"
        if found is None:
            lines.append(f"| {head} | {goal.label} | — | not run yet | — | 0 | no | — | {goal.public} |")
            continue
        chosen, _, runs = found
        tests = [r["test_accuracy"] for r in runs]
        mean, params = statistics.fmean(tests), runs[0]["params"]
        met = comparable(mean) >= goal.target and len(tests) >= goal.seeds and params <= goal.budget
        counts = f"{params:,} ({runs[0]['trainable_params']:,})"
        lines.append(f"| {head} | {goal.label} | {counts} | {chosen} | {mean_std(tests)} | {len(tests)} | "
                     f"{'yes' if met else 'no'} | {SEARCH_READ_TEST} | {goal.public} |")
    lines += ["", "Recipe: the candidate folder of best mean validation accuracy over the seeds every candidate has; "
              "test accuracy: that folder's runs, mean ± std over seeds. Met: the mean reaches the goal with at "
              "least its seeds and no more weights than its budget, every weight counted (Keras's `count_params`, "
              "BatchNorm's moving statistics included; trainable in parentheses). These figures were found by a "
              "search in which test figures decided when to add a candidate and when to stop; they are not "
              "confirmed until the pre-registered confirmation (results/frontier_confirmation) reads its own "
              "seeds."]
    return "\n".join(lines) + "\n"


def curves_table(root, folder):
    """Each run of `folder` in numbers from its `history.csv`: how its training ended, as Markdown.

    One row per run: the last epoch's training and validation accuracy and
    loss, the best validation accuracy and its epoch, and the test accuracy.
    A training accuracy far above validation says the model fits but does
    not generalize; both low, that it lacks capacity or steps.
    """
    lines = ["| run | epochs | train accuracy (last) | validation (last) | train loss (last) | validation loss (last) "
             "| best validation (epoch) | test accuracy |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run_dir, _, files in sorted(os.walk(os.path.join(root, folder, "runs"))):
        if "results.json" not in files:
            continue
        [run] = collect(run_dir)
        with open(os.path.join(run_dir, "history.csv"), newline="", encoding="utf-8") as f:
            epochs = list(csv.DictReader(f))
        last = epochs[-1]
        best = max(epochs, key=lambda e: float(e["val_accuracy"]))
        lines.append(f"| {model_label(run['model'], run.get('model_args'))} seed {run['seed']} | {len(epochs)} | "
                     f"{float(last['accuracy']):.4f} | {float(last['val_accuracy']):.4f} | {float(last['loss']):.4f} | "
                     f"{float(last['val_loss']):.4f} | {float(best['val_accuracy']):.4f} ({best['epoch']}) | "
                     f"{run['test_accuracy']:.4f} |")
    return "\n".join(lines) + "\n"


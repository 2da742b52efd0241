"""The frontier's goals, each against the best public figure found: `frontier_table(root, dataset)`.

Each goal names one model (with its overrides) and the results folders of
its candidate recipes. The recipe is the folder of best mean validation
accuracy over the seeds every candidate has (`training.lr_grid.choose`);
the test split only measures the chosen folder's runs. A goal is met when
that mean test accuracy reaches the target with at least the seeds asked
and no more parameters than the budget.

The goals and their public figures (the best we found at or under each
budget when the goals were set, with their sources) are data, not code:
`results/frontier_goals.json`, beside the results folders they name. This
module reads it for the tables and for the docs' generated blocks (`BLOCKS`:
`frontier`, `goals`, `curves`), so the docs state them from that file only.
"""

import collections
import csv
import json
import os
import statistics

from constrained_zoo.markdown import markdown_table

from .results import collect, comparable, mean_std, model_label

#: One goal: the dataset, its parameter budget, target accuracy and seeds, the model and its recipes' folders.
Goal = collections.namedtuple("Goal", "dataset budget target seeds label folders public")

#: The goals' file, relative to the repository's root: the one copy the code and the docs read.
GOALS_FILE = os.path.join("results", "frontier_goals.json")


class GoalsError(ValueError):
    """A goals file that cannot be read as goals, named with its path, the goal and the field."""


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


#: Each field of a goal in the file: what it must be, and how the error says so.
_FIELDS = {
    "dataset": (lambda v: isinstance(v, str) and v != "", "a dataset's name"),
    "budget": (_positive_int, "an integer >= 1 (weights)"),
    "target": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1,
               "an accuracy in (0, 1]"),
    "seeds": (_positive_int, "an integer >= 1"),
    "label": (lambda v: isinstance(v, str) and v != "", "a model's label, e.g. 'cnn1d_bn_5k (width=0.6)'"),
    "folders": (lambda v: isinstance(v, list) and v != [] and all(isinstance(f, str) and f for f in v),
                "a non-empty list of results folders"),
    "public": (lambda v: isinstance(v, str) and v != "", "the best public figure found, with its source"),
}


def load_goals(path):
    """The goals of the file at `path` (`GOALS_FILE` under the repository's root), each a `Goal`.

    Raises:
        GoalsError: the file is not JSON, has no list of `goals`, or a goal
            lacks a field, has one more, or holds a value of the wrong kind;
            the message names the goal, the field and the value received.

    Example:

    >>> [(g.dataset, g.budget, g.target) for g in load_goals(GOALS_FILE)][-1]
    ('fashion_mnist', 10000, 0.915)
    """
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except (OSError, ValueError) as error:
        raise GoalsError(f"{path}: cannot read the frontier's goals: {error}") from None
    goals = document.get("goals") if isinstance(document, dict) else None
    if not isinstance(goals, list) or not goals:
        raise GoalsError(f"{path}: expected an object with a non-empty list `goals`; received {document!r:.200}")
    return tuple(_goal(path, i, goal) for i, goal in enumerate(goals))


def _goal(path, i, goal):
    name = f"{path}: goal {i}" + (f" ({goal.get('label')!r})" if isinstance(goal, dict) and "label" in goal else "")
    if not isinstance(goal, dict) or set(goal) != set(_FIELDS):
        fields = sorted(goal) if isinstance(goal, dict) else goal
        raise GoalsError(f"{name}: expected the fields {sorted(_FIELDS)}; received {fields!r}")
    for field, (valid, expected) in _FIELDS.items():
        if not valid(goal[field]):
            raise GoalsError(f"{name}: `{field}` must be {expected}; received {field}={goal[field]!r}")
    return Goal(**{**goal, "folders": tuple(goal["folders"])})


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


def goals_text(root, dataset):
    """One sentence: the goals of `dataset` in `root`'s goals file, as the docs' prose states them.

    Example:

    >>> goals_text(".", "fashion_mnist")
    'Goals: ≥ 0.935 with ≤ 50,000 weights (3 seeds) and ≥ 0.915 with ≤ 10,000 weights (3 seeds).\\n'
    """
    goals = [g for g in load_goals(os.path.join(root, GOALS_FILE)) if g.dataset == dataset]
    if not goals:
        raise GoalsError(f"{os.path.join(root, GOALS_FILE)}: no goal for dataset={dataset!r}")
    said = [f"≥ {g.target:g} with ≤ {g.budget:,} weights ({g.seeds} seeds)" for g in goals]
    joined = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    return f"Goal{'s' * (len(said) > 1)}: {joined}.\n"


def frontier_table(root, dataset, goals=None):
    """The goals of `dataset` as Markdown: the chosen recipe's test accuracy, met or not, the public figure.

    `goals` defaults to those of `root`'s goals file (`GOALS_FILE`).
    """
    if goals is None:
        goals = load_goals(os.path.join(root, GOALS_FILE))
    rows = []
    for goal in (g for g in goals if g.dataset == dataset):
        found = outcome(root, goal)
        head = f"≥ {goal.target:g} with ≤ {goal.budget:,} ({goal.seeds} seeds)"
        if found is None:
            rows.append([head, goal.label, "—", "not run yet", "—", 0, "no", "—", goal.public])
            continue
        chosen, _, runs = found
        tests = [r["test_accuracy"] for r in runs]
        mean, params = statistics.fmean(tests), runs[0]["params"]
        met = comparable(mean) >= goal.target and len(tests) >= goal.seeds and params <= goal.budget
        counts = f"{params:,} ({runs[0]['trainable_params']:,})"
        rows.append([head, goal.label, counts, chosen, mean_std(tests), len(tests), "yes" if met else "no",
                     SEARCH_READ_TEST, goal.public])
    header = ["goal", "model", "weights (trainable)", "recipe (chosen on validation)", "test accuracy", "seeds", "met",
              "how it was found", "best public figure found"]
    lines = [markdown_table(header, rows, right=(2, 4, 5)), "", "Recipe: the candidate folder of best mean validation accuracy over the seeds every candidate has; "
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
    header = ["run", "epochs", "train accuracy (last)", "validation (last)", "train loss (last)",
              "validation loss (last)", "best validation (epoch)", "test accuracy"]
    rows = []
    for run_dir, _, files in sorted(os.walk(os.path.join(root, folder, "runs"))):
        if "results.json" not in files:
            continue
        [run] = collect(run_dir)
        with open(os.path.join(run_dir, "history.csv"), newline="", encoding="utf-8") as f:
            epochs = list(csv.DictReader(f))
        last = epochs[-1]
        best = max((e for e in epochs if e["val_accuracy"]), key=lambda e: float(e["val_accuracy"]))  # validated epochs
        rows.append([f"{model_label(run['model'], run.get('model_args'))} seed {run['seed']}", len(epochs),
                     *(f"{float(last[key]):.4f}" for key in ("accuracy", "val_accuracy", "loss", "val_loss")),
                     f"{float(best['val_accuracy']):.4f} ({best['epoch']})", f"{run['test_accuracy']:.4f}"])
    return markdown_table(header, rows, right=range(1, 8)) + "\n"



#: The docs' generated blocks this module owns (`training.readme`): kind: (function of root and arguments, arity).
BLOCKS = {"frontier": (frontier_table, 1), "curves": (curves_table, 1), "goals": (goals_text, 1)}

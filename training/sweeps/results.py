"""Results as data: aggregate run directories into a table and a plot.

`collect(runs_dir)` reads every `results.json` below `runs_dir` (with the
model overrides and the recipe of its `config.json`); `summarize` groups them
by (model, overrides, recipe), mean ± std over seeds, and never averages runs
of different recipes; `training.report.write_report` writes `results.csv`, `results.md` and
`accuracy_vs_params.png` atomically, the plot titled as the sweep's
`recipe.json` says unless a title is given.

A run's recipe is `settings.recipe_of` its config.json's `args`: the
settings of kind "recipe", a setting the config lacks (it predates the
setting) at the value that meant what the code did then.
"""

import csv
import io
import json
import math
import os
import statistics

from constrained_zoo.markdown import markdown_table
from constrained_zoo.models.architecture import count_text

from .. import settings
from . import identical

FAMILY_ORDER = ("mlp", "fully_connected", "locally_connected", "low_rank_locally_connected", "shared_conv",
                "multi_channel_conv")
COLUMNS = (
    "model", "family", "params", "trainable_params", "test_accuracy_mean", "test_accuracy_std",
    "seeds", "epochs", "num_train", "train_seconds_mean", "best_val_accuracy_mean", "clean",
)
# Added to results.csv only for a folder with model overrides or several recipes.
EXTRA_COLUMNS = ("label", "model_args", "recipe")

RECIPE_FILE = "recipe.json"


def collect(runs_dir):
    """Every finished run's results.json below `runs_dir`, as dicts.

    Each also gets `run_dir` (the folder it was read from), `model_args`
    (the model overrides, {} for runs before `--model-arg`) and `recipe`
    (`recipe_of` its config.json's `args`; None without a config.json),
    read from the config.json beside it.
    """
    found = []
    for root, dirs, files in os.walk(runs_dir):
        dirs.sort()
        if "results.json" in files:
            with open(os.path.join(root, "results.json"), encoding="utf-8") as f:
                result = json.load(f)
            args, data = None, {}
            if "config.json" in files:
                with open(os.path.join(root, "config.json"), encoding="utf-8") as f:
                    config = json.load(f)
                args, data = config.get("args"), config.get("data") or {}
                result["git"] = config.get("git")
            result["run_dir"] = root
            result["model_args"] = dict((args or {}).get("model_args") or {})
            result["recipe"] = settings.recipe_of(args) if args is not None else None
            if result.get("params") is None:  # a run from before results.json recorded every weight
                result["params"] = weights_of(result["model"], result["model_args"], data.get("input_shape"),
                                              data.get("num_classes"), result.get("trainable_params"))
            found.append(result)
    return found


_WEIGHTS = {}


def weights_of(model, model_args, input_shape=None, num_classes=None, trainable=None):
    """Every weight the zoo's `model` holds with `model_args` on that data (Keras's `count_params`).

    The count of the tables, goals and budgets: trainable weights plus
    BatchNorm's moving statistics. A run's results.json records it
    (`params`); for runs from before it did, the model is built to count
    them (once per configuration) for the run's data (its config.json's
    `input_shape`). A model the zoo does not have, or a record without its
    data's shape (a test's stand-in), counts `trainable`, when given. Example:

    >>> weights_of("cnn_bn_10k", {}) - 9106  # BatchNorm's moving mean and variance
    128
    """
    key = (model, json.dumps(model_args or {}, sort_keys=True), json.dumps(input_shape), num_classes)
    if key not in _WEIGHTS:
        from constrained_zoo import models  # pylint: disable=import-outside-toplevel

        if trainable is not None and (model not in models.list_models() or not input_shape):
            return trainable
        shape = tuple(input_shape) if input_shape else None
        _WEIGHTS[key] = models.count_params(model, input_shape=shape, num_classes=num_classes, **(model_args or {}))
    return _WEIGHTS[key]


def spread(values):
    """The sample standard deviation of `values` over seeds; 0.0 for a single seed."""
    return statistics.stdev(values) if len(values) > 1 else 0.0


def mean_std(values):
    """`"0.9324 ± 0.0019"`: the mean of `values` and their spread over seeds (± 0.0000 for one seed)."""
    return f"{statistics.fmean(values):.4f} ± {spread(values):.4f}"


def comparable(accuracy):
    """`accuracy` (a mean over seeds of float32 accuracies) rounded to 6 decimals, for comparisons.

    Accuracies are k/N of a split stored as float32: 4,950 right of 5,000 is
    0.99, but the mean of the five float32 figures is 0.98999999. Compared
    to 6 decimals, a mean at a target reaches it and two equal means tie.
    """
    return round(accuracy, 6)


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
                "params": runs[0]["params"],
                "trainable_params": runs[0]["trainable_params"],
                "test_accuracy_mean": statistics.fmean(accuracies),
                "test_accuracy_std": spread(accuracies),
                "test_accuracies": accuracies,  # by run, for intervals (not a CSV column)
                "seeds": len(runs),
                "epochs": runs[0]["epochs"],
                "num_train": runs[0]["num_train"],
                "train_seconds_mean": statistics.fmean(r["wall_time_seconds"] for r in runs),
                "best_val_accuracy_mean": statistics.fmean(vals) if vals else float("nan"),
                "clean": all(is_clean(r) for r in runs),
            }
        )
    family_rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda r: (family_rank.get(r["family"], 99), r["params"], r["model"], r["label"]))
    return rows


#: Marks a row with a run that no clean commit made (see `is_clean`).
UNCLEAN = "†"
UNCLEAN_NOTE = (f"{UNCLEAN}: a run of this row records no clean commit: it was trained from a checkout with "
                "uncommitted changes, or before runs recorded their commit, so its code cannot be checked out.")


def is_clean(run):
    """Whether a run (`collect`'s dict) records the commit it was trained from, with no uncommitted change."""
    git = run.get("git") or {}
    return bool(git.get("commit")) and git.get("dirty") is False


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
    """The rows no other row beats with fewer (or as many) weights."""
    front, best = [], -math.inf
    for row in sorted(rows, key=lambda r: (r["params"], -r["test_accuracy_mean"])):
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
    cells = []
    for r in rows:
        star = (" ★" if _label(r) in front else "") + (f" {identical.MARK} {twins[_label(r)]}" if _label(r) in twins else "")
        star += "" if r.get("clean", True) else f" {UNCLEAN}"
        spread = f" ± {r['test_accuracy_std']:.4f}" if r["seeds"] > 1 else ""
        cells.append([f"{_label(r)}{star}", r["family"], count_text(r), f"{r['test_accuracy_mean']:.4f}{spread}",
                      r["seeds"], r["epochs"], f"{r['num_train']:,}", f"{r['train_seconds_mean']:.0f}"])
    header = ["model", "family", "weights (trainable)", "test accuracy", "seeds", "epochs", "train examples",
              "train time (s)"]
    lines = [markdown_table(header, cells, right=range(2, 8)), ""]
    lines.append("★: on the Pareto frontier (no model with as few or fewer weights is more accurate). Weights: every "
                 "weight the model holds (Keras's `count_params`, BatchNorm's moving statistics included); the "
                 "trainable ones in parentheses.")
    if not all(r.get("clean", True) for r in rows):
        lines.append(UNCLEAN_NOTE)
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
        budgets: weight counts (every weight, `params`), e.g. (10_000, 60_000, 250_000).
    """
    families = [f for f in FAMILY_ORDER if any(r["family"] == f for r in rows)]
    families += sorted({r["family"] for r in rows} - set(families))
    table = []
    shown = {}  # the rows the cells name, by label
    for budget in budgets:
        cells = []
        for family in families:
            within = [r for r in rows if r["family"] == family and r["params"] <= budget]
            if not within:
                cells.append("—")
                continue
            best = max(within, key=lambda r: (r["best_val_accuracy_mean"], -r["params"]))
            shown[_label(best)] = best
            mark = "" if best.get("clean", True) else f" {UNCLEAN}"
            cells.append(f"{best['test_accuracy_mean']:.4f} ({_label(best)}{mark}, {count_text(best)})")
        table.append([f"≤ {budget:,}", *cells])
    lines = [markdown_table(["budget (weights)", *families], table, right=(0,)), "", "Each cell: test accuracy (mean over the model's seeds) of the family's model with the best validation "
              "accuracy within the budget, every weight counted (trainable in parentheses)."]
    if not all(r.get("clean", True) for r in shown.values()):
        lines.append(UNCLEAN_NOTE)
    by_model = {r["model"]: r for r in shown.values() if not r.get("model_args")}
    paired = [r for r in by_model.values() if identical.same_as(r["model"]) in by_model]  # both twins in cells
    lines += identical.footnotes(paired + [by_model[identical.same_as(r["model"])] for r in paired])
    lines += _recipe_notes(rows)
    return "\n".join(lines) + "\n"


def recipe_title(out_dir):
    """The plot title the sweep recorded in `OUT/recipe.json` (its `--title`), or None."""
    path = os.path.join(out_dir, RECIPE_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        recipe = json.load(f)
    return recipe.get("title") or (recipe.get("args") or {}).get("title")


def compare(base_dir, variant_dir):
    """Markdown table of each model's accuracy in two result folders, the change with its paired interval.

    E.g. MNIST-1D against pixel-shuffled MNIST-1D: the drop, in points,
    that the variant costs each model (the MNIST-1D paper's spatial-prior
    experiment). Seed k of the two folders shares its split and data
    order, so the change is also taken seed by seed, with its 95% t-interval
    over the common seeds and "not resolved" where it covers zero.
    """
    from .paired import paired_points  # pylint: disable=import-outside-toplevel

    base_runs, variant_runs = collect(os.path.join(base_dir, "runs")), collect(os.path.join(variant_dir, "runs"))
    base = {r["label"]: r for r in summarize(base_runs)}
    variant = {r["label"]: r for r in summarize(variant_runs)}
    by_seed = lambda runs, name: {r["seed"]: r["test_accuracy"] for r in runs if model_label(  # noqa: E731
        r["model"], r.get("model_args")) == name}
    header = ["model", "family", "weights (trainable)", os.path.basename(base_dir.rstrip("/")),
              os.path.basename(variant_dir.rstrip("/")), "change (points)", "95% interval, paired by seed"]
    cells = []
    for name in (n for n in variant if n in base):
        after, before = by_seed(variant_runs, name), by_seed(base_runs, name)
        mean, low, high = paired_points(after, before)
        seeds = len(set(after) & set(before))
        interval = "n/a (one seed)" if low is None else (
            f"[{low:+.1f}, {high:+.1f}] ({seeds} seeds{'' if low > 0 or high < 0 else ', not resolved'})")
        cells.append([name, base[name]["family"], count_text(base[name]), f"{base[name]['test_accuracy_mean']:.4f}",
                      f"{variant[name]['test_accuracy_mean']:.4f}",
                      f"{100 * (variant[name]['test_accuracy_mean'] - base[name]['test_accuracy_mean']):+.1f}", interval])
    return markdown_table(header, cells, right=range(2, 7)) + "\n"

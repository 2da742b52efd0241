"""Paired differences between the models of one results folder: the intervals behind the docs' sentences.

A sentence such as "locality alone buys 20 points over the MLP" compares
two rows of a table of means. Here it gets its interval: seed k of two
models of one sweep shares the validation split and the order of the
training data, so the difference is taken seed by seed, and its interval
is Student's t over those differences (n − 1 degrees of freedom: with two
seeds the 95% interval is ±12.7 standard errors wide, and most
differences are not resolved). In the docs:

    <!-- generated: differences results/mnist1d lc1d_small-mlp_1d_small,cnn1d_small-lc1d_small -->

each pair `A-B` (labels as `model_label` writes them, without spaces,
e.g. `lc_small(width=1.5)`) becomes a row: A − B in points, its interval,
the seeds paired, and who is ahead, or "not resolved".

A goal such as "≥ 0.90 with ≤ 10k weights" is a claim too:

    <!-- generated: targets results/fashion_mnist,results/fashion_mnist_augment 0.9@10000,0.8833@300000:fully_connected -->

each `TARGET@BUDGET[:FAMILY]` becomes a row: the model (of that family)
within the budget, every weight counted, whose mean validation accuracy
is best over the folders' recipes, its test accuracy with its interval,
and whether its mean reaches the target.
"""

import json
import os

from constrained_zoo.markdown import markdown_table

from .paired import ahead, paired_points, t_interval
from .results import UNCLEAN, UNCLEAN_NOTE, collect, comparable, count_text, mean_std, model_label, summarize


def label_of(run):
    """A run's label without spaces: `cnn_small` or `cnn_small(width=2)`."""
    return model_label(run["model"], run.get("model_args")).replace(" ", "")


def tests_by_seed(folders):
    """`{label: {seed: test accuracy}}` of the finished runs under each `FOLDER/runs`, one recipe per label.

    Args:
        folders: a results folder, or several (a list) whose runs are read together.

    Raises:
        ValueError: a label has runs of more than one recipe (they are different experiments).
    """
    folders = [folders] if isinstance(folders, str) else list(folders)
    found, recipes = {}, {}
    for run in (r for folder in folders for r in collect(os.path.join(folder, "runs"))):
        label = label_of(run)
        recipes.setdefault(label, set()).add(json.dumps(run.get("recipe"), sort_keys=True))
        found.setdefault(label, {})[run["seed"]] = run["test_accuracy"]
    mixed = sorted(label for label, keys in recipes.items() if len(keys) > 1)
    if mixed:
        raise ValueError(f"{', '.join(folders)}: {mixed[0]!r} has runs of {len(recipes[mixed[0]])} recipes; compare within one.")
    return found


def parse_pairs(text):
    """`"a-b,c-d"` as `[("a", "b"), ("c", "d")]`; `ValueError` naming a malformed pair."""
    pairs = []
    for item in text.split(","):
        parts = item.split("-")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"a pair is 'A-B' (two labels without '-'); received {item!r} in {text!r}.")
        pairs.append(tuple(parts))
    return pairs


def differences(folders, pairs, level=0.95):
    """The Markdown table of `pairs` (`[(a, b)]`) of the runs of one folder or several, paired by seed."""
    tests = tests_by_seed(folders)
    rows, resolved = [], []
    for a, b in pairs:
        for label in (a, b):
            if label not in tests:
                raise ValueError(f"no finished runs labelled {label!r}; it has {sorted(tests)}.")
        seeds = len(set(tests[a]) & set(tests[b]))
        mean, low, high = paired_points(tests[a], tests[b], level)
        bounds = f"[{low:+.1f}, {high:+.1f}]" if low is not None else "—"
        said = ahead(mean, low, high, a, b)
        rows.append([f"{a} − {b}", seeds, f"{mean:+.1f}", bounds, said])
        resolved += [f"{said} ({a} − {b} {mean:+.1f} points)"] if said.endswith(" ahead") else []
    header = ["difference", "seeds", "mean (points)", f"{level:.0%} interval", "verdict"]
    lines = [markdown_table(header, rows, right=(1, 2, 3)), "", f"Test accuracy of the first minus the second, in points, seed by seed (the seeds both have); "
              f"the interval is Student's t at {level:.0%} with one degree of freedom fewer than the seeds. "
              f"Resolved: {len(resolved)} of {len(pairs)}" + (f": {'; '.join(resolved)}." if resolved else ".")]
    return "\n".join(lines) + "\n"


def differences_block(root, folders, pairs):
    """The docs' `differences FOLDER[,FOLDER...] A-B[,C-D...]` block (folders relative to `root`)."""
    return differences([os.path.join(root, folder) for folder in folders.split(",")], parse_pairs(pairs))


def parse_targets(text):
    """`"0.9@10000,0.88@300000:mlp"` as `[(0.9, 10000, None), (0.88, 300000, "mlp")]`; `ValueError` naming the item."""
    found = []
    for item in text.split(","):
        goal, colon, family = item.partition(":")
        target, _, budget = goal.partition("@")
        try:
            target, budget = float(target), int(budget)
        except ValueError:
            target = budget = None
        if target is None or not 0 < target <= 1 or budget <= 0 or (colon and not family):
            raise ValueError(f"a target is 'ACCURACY@WEIGHTS[:FAMILY]' (e.g. 0.9@10000); "
                             f"received {item!r} in {text!r}.")
        found.append((target, budget, family or None))
    return found


def targets(folders, goals, level=0.95, names=None):
    """The Markdown table of `goals` (`[(target, budget, family or None)]`) over the runs of `folders`.

    Per goal, the candidates are every (folder, model, recipe) row of the
    family (any, for None) holding at most `budget` weights, every weight
    counted; the one of best mean validation accuracy (fewer weights on a
    tie) is chosen, never by test. Met: its mean test accuracy, to 6
    decimals, reaches the target. `names`: the folders as the table shows
    them (default: as given).
    """
    folders = [folders] if isinstance(folders, str) else list(folders)
    names = dict(zip(folders, names or folders))
    rows = [{**row, "folder": names[folder]} for folder in folders
            for row in summarize(collect(os.path.join(folder, "runs")))]
    table, unclean = [], False
    for target, budget, family in goals:
        within = [r for r in rows if r["params"] <= budget and family in (None, r["family"])]
        goal = f"≥ {target:g} with ≤ {budget:,} weights" + (f", {family}" if family else "")
        if not within:
            raise ValueError(f"no model within {budget:,} weights{f' of family {family!r}' if family else ''} in "
                             f"{', '.join(folders)}")
        best = max(within, key=lambda r: (r["best_val_accuracy_mean"], -r["params"]))
        tests = best["test_accuracies"]
        unclean |= not best.get("clean", True)
        mark = "" if best.get("clean", True) else f" {UNCLEAN}"
        _, low, high = t_interval(tests, level)
        interval = f"[{low:.4f}, {high:.4f}]" if low is not None else "—"
        met = comparable(best["test_accuracy_mean"]) >= target
        table.append([goal, f"{best['label']}{mark}", best["folder"], count_text(best),
                      f"{best['best_val_accuracy_mean']:.4f}", mean_std(tests), interval, best["seeds"],
                      "yes" if met else "**no**"])
    header = ["goal", "model", "folder", "weights (trainable)", "validation", "test accuracy",
              f"{level:.0%} interval", "seeds", "met"]
    lines = [markdown_table(header, table, right=(3, 4, 5, 6, 7)), "",
             "Per goal: among the folders' models within the budget (of the family named), every weight counted "
             "(Keras's `count_params`; trainable in parentheses), the one of best mean validation accuracy; its test "
             f"accuracy, mean ± std over seeds, and Student's t interval at {level:.0%}. Met: the mean reaches the "
             "target (to 6 decimals)."]
    return "\n".join(lines + ([UNCLEAN_NOTE] if unclean else [])) + "\n"


def targets_block(root, folders, goals):
    """The docs' `targets FOLDER[,FOLDER...] TARGET@BUDGET[:FAMILY][,...]` block (folders relative to `root`)."""
    names = folders.split(",")
    return targets([os.path.join(root, folder) for folder in names], parse_targets(goals), names=names)


#: The generated-block kinds this module writes (`training.readme`): name -> (function, number of arguments).
BLOCKS = {"differences": (differences_block, 2), "targets": (targets_block, 2)}

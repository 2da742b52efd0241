"""A fair family comparison: each model at its best learning rate, chosen on validation.

    python -m constrained_zoo.training.lr_grid results/fashion_mnist results/fashion_mnist_lr0.003 results/fashion_mnist_lr0.0003 \\
        --models "mlp_small,fc2d_small,lc_small (width=1.5),sharedconv_large,cnn_base" \\
        --out results/fashion_mnist_lr_grid.md

Results folders (sweeps' `--out`) of one recipe but the learning rate
(checked; a sweep's folder holds one learning rate and one set of
`--model-arg`s, so a rate may take several folders). For each model (a label of the
report: the name, with its overrides in parentheses) the learning rate is
the one with the best validation accuracy (`best_val_accuracy`, mean over the
seeds that every learning rate has), and the table reports the test accuracy
of that rate's runs (mean ± std over all its seeds). The test split chooses
nothing. It then ranks the families by that test accuracy and says whether
the chapter's order holds: fully connected (`mlp`, `fully_connected`) <
locally connected < multi-channel convolution.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import math
import os
import statistics
import sys

from constrained_zoo.atomic import write_text
from constrained_zoo.markdown import markdown_table

from .sweeps import results as report

FULLY_CONNECTED = ("mlp", "fully_connected")


class GridError(ValueError):
    """Folders that do not make a learning-rate grid, said plainly."""


def _finished_runs(folder):
    """`report.collect` of `folder`'s runs; a `GridError` when there is none."""
    results = report.collect(os.path.join(folder, "runs"))
    if not results:
        raise GridError(f"{folder!r} holds no finished run (expected {folder}/runs/MODEL/seedK/results.json).")
    return results


def grid(folders, labels):
    """`{label: {learning_rate: [results...]}}` of `labels` over `folders`, recipes checked.

    Raises:
        GridError: a folder without runs, folders whose recipes differ in
            more than the learning rate, two runs of one (model, rate, seed),
            or a model with no run at some learning rate.
    """
    # A label may be written without its spaces ("lc_small(width=1.5)", as in a README marker).
    wanted = {label.replace(" ", ""): label for label in labels}
    found, recipes = {label: {} for label in labels}, {}
    for folder in folders:
        for r in _finished_runs(folder):
            if r.get("recipe") is None:
                continue  # a run without config.json: no recipe to compare
            label = report.model_label(r["model"], r.get("model_args"))
            rate = r["recipe"]["learning_rate"]
            rest = {k: v for k, v in r["recipe"].items() if k != "learning_rate"}
            first = recipes.setdefault("rest", (folder, rest))
            if rest != first[1]:
                differ = sorted(k for k in set(rest) | set(first[1]) if rest.get(k) != first[1].get(k))
                raise GridError(f"{folder!r} and {first[0]!r} differ in more than the learning rate: {differ}.")
            recipes.setdefault(rate, folder)
            if label.replace(" ", "") in wanted:
                runs = found[wanted[label.replace(" ", "")]].setdefault(rate, [])
                if any(other["seed"] == r["seed"] for other in runs):
                    raise GridError(f"{label!r} has two runs of seed {r['seed']} at learning rate {rate} "
                                    f"(one in {folder!r}): keep one.")
                runs.append(r)
    rates = sorted(k for k in recipes if k != "rest")
    for label, by_rate in found.items():
        missing = [rate for rate in rates if rate not in by_rate]
        if missing:
            raise GridError(f"{label!r} has no finished run at learning rate {missing} (folders: {folders}).")
    return found


def choose(by_key, order=None):
    """`(key, validation_by_key)`: the key (a learning rate, a folder) of best mean validation accuracy.

    The mean is over the seeds every key has; a tie (means equal to 6
    decimals, `results.comparable`) goes to the first key of `order`
    (default: sorted, so the smaller learning rate).
    """
    seeds = set.intersection(*({r["seed"] for r in runs} for runs in by_key.values()))
    if not seeds:
        raise GridError(f"{sorted(map(str, by_key))} share no seed: their validation accuracies cannot be compared.")
    validation = {}
    for key in order or sorted(by_key):
        values = [r["best_val_accuracy"] for r in by_key[key] if r["seed"] in seeds]
        if any(v is None for v in values):
            raise GridError("a run has no validation accuracy (--validation-fraction 0): nothing to choose on.")
        validation[key] = statistics.fmean(values)
    return max(validation, key=lambda key: report.comparable(validation[key])), validation


def comparison(found):
    """The Markdown table and verdict of `grid(...)`'s result."""
    rates = sorted({rate for by_rate in found.values() for rate in by_rate})
    rows = []
    for by_rate in found.values():
        rate, validation = choose(by_rate)
        runs = by_rate[rate]
        tests = [r["test_accuracy"] for r in runs]
        rows.append({
            "label": report.model_label(runs[0]["model"], runs[0].get("model_args")), "family": runs[0]["family"], "params": report.count_text(runs[0]),
            "validation": validation, "rate": rate, "test": statistics.fmean(tests),
            "std": report.spread(tests), "seeds": len(tests),
        })
    rows.sort(key=lambda r: -r["test"])
    header = ["model", "family", "weights (trainable)", *(f"validation, lr {rate:g}" for rate in rates), "chosen lr",
              "test accuracy", "seeds"]
    cells = [[r["label"], r["family"], r["params"],
              *(f"**{r['validation'][rate]:.4f}**" if rate == r["rate"] else f"{r['validation'][rate]:.4f}"
                for rate in rates), f"{r['rate']:g}", f"{r['test']:.4f} ± {r['std']:.4f}", r["seeds"]] for r in rows]
    note = ("Validation accuracy: the best epoch's, mean over the seeds every rate has; the chosen rate in bold. "
            "Test accuracy: the chosen rate's runs, mean ± std over seeds. Sorted by test accuracy.")
    return "\n".join([markdown_table(header, cells, right=range(2, len(header))), "", note, "", verdict(rows)]) + "\n"


def verdict(rows):
    """The families' order by test accuracy at their chosen rates, and whether FC < LC < conv holds."""
    best = {}
    for r in rows:
        group = "fully connected" if r["family"] in FULLY_CONNECTED else r["family"].replace("_", " ")
        best[group] = max(best.get(group, -math.inf), r["test"])
    order = " > ".join(f"{group} ({accuracy:.4f})" for group, accuracy in sorted(best.items(), key=lambda kv: -kv[1]))
    chain = ("fully connected", "locally connected", "multi channel conv")
    if not all(group in best for group in chain):
        return f"Order by test accuracy: {order}. (Not every family of the chapter's order is in the grid.)"
    holds = best[chain[0]] < best[chain[1]] < best[chain[2]]
    return (f"Order by test accuracy: {order}. The chapter's order, fully connected < locally connected < "
            f"multi-channel convolution, **{'holds' if holds else 'does not hold'}** at this budget.")


def recipe_choice(folders, labels):
    """Each model's recipe chosen on validation among results folders of any recipes, as Markdown.

    A column per folder (its name stands for its recipe, `recipe.json`); a
    model may be missing from some folders ("—"). The chosen folder has the
    best validation accuracy (`best_val_accuracy`, mean over the seeds every
    folder holding the model has); the table gives its test accuracy (mean ±
    std over its seeds). Used for the frontier: which recipe validation picks.
    """
    names = [os.path.basename(os.path.normpath(folder)) for folder in folders]
    runs = {}
    for name, folder in zip(names, folders):
        for r in _finished_runs(folder):
            label = report.model_label(r["model"], r.get("model_args")).replace(" ", "")
            runs.setdefault(label, {}).setdefault(name, []).append(r)
    header = ["model", "weights (trainable)", *(f"validation, {name}" for name in names), "chosen", "test accuracy",
              "seeds"]
    cells = []
    for label in labels:
        by_folder = runs.get(label.replace(" ", ""))
        if not by_folder:
            raise GridError(f"{label!r} has no finished run in {folders}.")
        chosen, validation = choose(by_folder, order=[name for name in names if name in by_folder])
        tests = [r["test_accuracy"] for r in by_folder[chosen]]
        first = by_folder[chosen][0]
        validations = ["—" if name not in validation else
                       (f"**{validation[name]:.4f}**" if name == chosen else f"{validation[name]:.4f}") for name in names]
        cells.append([report.model_label(first["model"], first.get("model_args")), report.count_text(first),
                      *validations, chosen, report.mean_std(tests), len(tests)])
    return (markdown_table(header, cells, right={*range(1, len(names) + 2), len(names) + 3, len(names) + 4})
            + "\n\nValidation accuracy: the best epoch's, mean over the seeds every folder with the model has; the "
            "chosen folder in bold. Test accuracy: the chosen folder's runs, mean ± std over seeds.\n")


def split_labels(text):
    """Comma-separated labels, a comma inside parentheses (the overrides) kept in its label.

    Example:

    >>> split_labels("cnn_base, lc_small (delta=2, width=1.5),mlp_small")
    ['cnn_base', 'lc_small (delta=2, width=1.5)', 'mlp_small']
    """
    labels, depth, current = [], 0, []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            labels.append("".join(current))
            current = []
        else:
            current.append(char)
    labels.append("".join(current))
    return [label.strip() for label in labels if label.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.lr_grid",
        description="Each model at its best learning rate (chosen on validation) across results folders of one "
                    "recipe but the learning rate; the families ranked.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("folders", nargs="+", help="results folders (sweep --out), one per learning rate")
    parser.add_argument("--models", required=True,
                        help="comma-separated labels as the report writes them: cnn_base, lc_small (width=1.5)")
    parser.add_argument("--out", default=None, help="also write the Markdown here (atomically)")
    args = parser.parse_args(argv)
    labels = split_labels(args.models)
    if not labels:
        parser.error(f"--models names no model; received {args.models!r}")
    try:
        text = comparison(grid(args.folders, labels))
    except GridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(text, end="")
    if args.out:
        write_text(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

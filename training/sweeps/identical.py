"""Models that compute the same function, as the zoo declares them (`ModelEntry.same_as`).

A fully connected layer of one filter onto an N-point grid is a `Dense`
layer of N units on the flattened input: `fc1d_small` is `mlp_1d_small`,
`fc2d_small` is `mlp_small`, the same parameters and the same computation.
Their rows in a results table are one model trained twice, not two designs;
the tables and plots say so. The rule is the registry's declaration, not a
comparison of numbers: two models may score alike by chance, and one model
trained twice may not score exactly alike (on Fashion-MNIST, fc2d_small and
mlp_small, from the same seeds and the same initial weights, end 0.03
points apart).
"""

import functools

MARK = "≡"


@functools.lru_cache(maxsize=None)
def same_as(model):
    """The model `model` computes the same function as, or None (also for a name the zoo lacks).

    Example:

    >>> same_as("fc1d_small"), same_as("cnn_small"), same_as("no_such_model")
    ('mlp_1d_small', None, None)
    """
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    try:
        return models.model_entry(model).same_as
    except ValueError:
        return None


def marks(rows):
    """`{row label: the model it computes the same function as}` for the rows that have one.

    A row with overrides (`model_args`) is not marked: the declaration is
    about the registered configuration.
    """
    return {r.get("label", r["model"]): same_as(r["model"]) for r in rows
            if not r.get("model_args") and same_as(r["model"])}


def plot_label(row):
    """A model's label on a plot: `fc1d_small (same function as mlp_1d_small)` for a declared twin.

    In words: at a plot's font size a "≡" reads as a blot.
    """
    label = row.get("label", row["model"])
    twin = marks([row]).get(label)
    return f"{label} (same function as {twin})" if twin else label


def footnotes(rows):
    """Markdown lines under a results table naming its identical models (none without).

    Each says the two compute the same function and how far apart their
    rows are (a twin not in the table is named all the same).
    """
    found = marks(rows)
    if not found:
        return []
    by_model = {r["model"]: r for r in rows if not r.get("model_args")}
    lines = ["", f"{MARK}: computes the same function as the model named (declared in models/ as `same_as`: "
                 "the same parameters and the same computation), so the two rows are one model trained twice:"]
    for label, twin in found.items():
        mine, theirs = by_model[label], by_model.get(twin)
        if theirs is None:
            detail = f"{twin} is not in this table"
        elif mine["test_accuracy_mean"] == theirs["test_accuracy_mean"]:
            detail = "the same test accuracy"
        else:
            gap = 100 * (mine["test_accuracy_mean"] - theirs["test_accuracy_mean"])
            detail = f"test accuracy {abs(gap):.2f} points {'higher' if gap > 0 else 'lower'}, from the same seeds"
        lines.append(f"- {label} computes the same function as {twin} ({detail}).")
    return lines

"""The test-time shift, family against family: the intervals behind "locality loses less than full connection".

`training/shift.py` measures every run's test accuracy on images moved
right by a few pixels and tabulates it model by model. The docs then
compare *families*: the fully connected models lose about 8 points at one
pixel, the locally connected ones fewer, the convolutions fewest. Such a
sentence is about the family's models, so here a model is the unit:

- a model's change at `s` pixels is its mean over seeds of
  `accuracy(s px) - accuracy(0 px)`, in points (each seed's two figures
  come from the same run, so the change is paired within the run);
- a family's row is the mean of its models' changes and the range from
  its lowest model to its highest;
- "family A minus family B" is the difference of the two means with
  Welch's t interval over the models (unequal variances, Welch-Satterthwaite
  degrees of freedom), and the verdict names who loses less, or "not
  resolved" where the interval covers zero.

The models are the zoo's members of each family, at the sizes it ships
(from about 1.6k to 1.4M weights on Fashion-MNIST): the interval speaks for
that set of models, each counted once whatever its size or number of
seeds; it is not a statement about every network of the family. In the
docs:

    <!-- generated: shift_families results/fashion_mnist 1,2,6 locally_connected-fully_connected,shared_conv-locally_connected -->

The last shift also gets its accuracy compared (how much each family still
gets right there), not only its change.
"""

import math
import statistics

from constrained_zoo.markdown import markdown_table

from .claims import parse_pairs  # noqa: F401  the blocks' A-B,... pairs, as `differences` reads them
from .results import FAMILY_ORDER


def model_changes(records, shifts):
    """`{model: {"family", "seeds", "change": {s: points}, "accuracy": {s: mean}}}` from `training.shift` records.

    A record is `{"model", "family", "seed", "shift", "test_accuracy"}`; a
    seed counts only where it has every shift of `shifts` and 0.

    Raises:
        ValueError: no model has a seed with every shift.
    """
    by_run = {}
    for r in records:
        by_run.setdefault((r["model"], r["family"], r["seed"]), {})[r["shift"]] = r["test_accuracy"]
    models = {}
    for (model, family, _), accuracy in sorted(by_run.items()):
        if not all(s in accuracy for s in (0, *shifts)):
            continue
        entry = models.setdefault(model, {"family": family, "runs": []})
        entry["runs"].append(accuracy)
    if not models:
        raise ValueError(f"Invalid value for argument `shifts`: no run has every one of {[0, *shifts]}")
    for entry in models.values():
        runs = entry.pop("runs")
        entry["seeds"] = len(runs)
        entry["accuracy"] = {s: statistics.fmean(run[s] for run in runs) for s in (0, *shifts)}
        entry["change"] = {s: statistics.fmean(100 * (run[s] - run[0]) for run in runs) for s in shifts}
    return models


def family_curves(rows, shifts):
    """Each family's curve: the mean over its models of their accuracy at each shift, and the min and max.

    Returns `[(family, models, mean, low, high)]` in `FAMILY_ORDER`, the
    last three lists aligned with `shifts`; a model counts once whatever
    its number of seeds (its accuracy is already the mean over them).

    Example:

    >>> rows = [{"model": m, "family": "mlp", "accuracy": {0: a, 2: b}} for m, a, b in (("x", 0.8, 0.4), ("y", 0.9, 0.6))]
    >>> family_curves(rows, [0, 2])
    [('mlp', ['x', 'y'], [0.85, 0.5], [0.8, 0.4], [0.9, 0.6])]
    """
    curves = []
    families = [f for f in FAMILY_ORDER if any(r["family"] == f for r in rows)]
    families += sorted({r["family"] for r in rows} - set(families))
    for family in families:
        members = [r for r in rows if r["family"] == family]
        at = [[r["accuracy"][s] for r in members] for s in shifts]
        curves.append((family, [r["model"] for r in members], [round(statistics.fmean(a), 10) for a in at],
                       [min(a) for a in at], [max(a) for a in at]))
    return curves


def families(models):
    """`{family: [model, ...]}` in `FAMILY_ORDER` (others after it, sorted)."""
    found = {}
    for model, entry in sorted(models.items()):
        found.setdefault(entry["family"], []).append(model)
    order = [f for f in FAMILY_ORDER if f in found] + sorted(set(found) - set(FAMILY_ORDER))
    return {f: found[f] for f in order}


def welch(a, b, level=0.95):
    """`(difference, low, high, df)`: mean(a) − mean(b) and its Welch t interval (None bounds if either has < 2).

    Example:

    >>> d, low, high, df = welch([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    >>> d, round(low, 2), round(high, 2), df
    (1.0, -1.27, 3.27, 4.0)
    """
    from scipy import stats  # pylint: disable=import-outside-toplevel

    difference = statistics.fmean(a) - statistics.fmean(b)
    if len(a) < 2 or len(b) < 2:
        return difference, None, None, None
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    if va + vb == 0:
        return difference, difference, difference, float(len(a) + len(b) - 2)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf((1 + level) / 2, df)) * math.sqrt(va + vb)
    return difference, difference - half, difference + half, df


def comparison(models, a, b, shift, measure="change", level=0.95):
    """Family `a` minus family `b` at `shift`: `{"difference", "low", "high", "df", "verdict"}`.

    `measure` is "change" (points lost or gained from 0 px) or "accuracy"
    (the accuracy there, in points).

    Raises:
        ValueError: a family has no model, or `measure` is neither.
    """
    if measure not in ("change", "accuracy"):
        raise ValueError(f"Invalid value for argument `measure`: expected 'change' or 'accuracy', received {measure!r}")
    members = families(models)
    for family in (a, b):
        if family not in members:
            raise ValueError(f"Invalid family {family!r}: the runs hold {', '.join(members)}")

    def values(family):
        if measure == "change":
            return [models[m]["change"][shift] for m in members[family]]
        return [100 * models[m]["accuracy"][shift] for m in members[family]]

    difference, low, high, df = welch(values(a), values(b), level)
    more = "loses less" if measure == "change" else "is more accurate"
    less = "loses more" if measure == "change" else "is less accurate"
    verdict = (f"{a} {more}" if low is not None and low > 0 else f"{a} {less}" if high is not None and high < 0
               else "not resolved")
    return {"difference": difference, "low": low, "high": high, "df": df, "verdict": verdict}


def _spread(values):
    return f"{statistics.fmean(values):+.1f} ({min(values):+.1f} to {max(values):+.1f})"


def to_markdown(models, shifts, pairs, level=0.95):
    """The two tables: each family's change at each shift (mean, lowest to highest model), then the pairs."""
    last = max(shifts)
    members = families(models)
    header = ["family", "models", *(f"change at {s} px" for s in shifts), f"accuracy at {last} px"]
    rows = [[family, len(names), *(_spread([models[m]["change"][s] for m in names]) for s in shifts),
             _spread([100 * models[m]["accuracy"][last] for m in names]).replace("+", "")]
            for family, names in members.items()]
    lines = [markdown_table(header, rows, right=range(1, len(header))), "",
             "Points; each family the mean over its models (each model the mean over its seeds), lowest to "
             "highest model in parentheses.", ""]
    header = ["A − B", "measure", "difference (points)", f"{round(100 * level)}% interval", "verdict"]
    rows = []
    for a, b in pairs:
        for measure, s in [*(("change", s) for s in shifts), ("accuracy", last)]:
            c = comparison(models, a, b, s, measure, level)
            interval = "n/a" if c["low"] is None else f"[{c['low']:+.1f}, {c['high']:+.1f}]"
            rows.append([f"{a} − {b}", f"{measure} at {s} px", f"{c['difference']:+.1f}", interval, c["verdict"]])
    lines += [markdown_table(header, rows, right=(2, 3)), "",
              f"Interval: Welch's t over the two families' models, {round(100 * level)}%, no correction for the "
              "number of comparisons. A model counts once, whatever its size or seeds: the interval speaks for "
              "the zoo's models of each family, not for every network of that family."]
    return "\n".join(lines) + "\n"


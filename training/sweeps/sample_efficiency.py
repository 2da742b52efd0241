"""What each constraint buys in data: test accuracy against the number of training examples.

The protocol, fixed before any result was looked at:

- Matched budgets: each model is scaled by its family's `width` to the
  parameter count nearest the budget (`match_width`, over `WIDTHS`).
- The same number of optimizer steps at every size: a subset of n examples
  trains for `epochs_for(n) = ceil(steps / ceil(n / batch_size))` epochs,
  so a small subset is seen more often, not for less time. The subset is
  the first n of the seed's permutation left after the validation split
  (`--max-train-examples`); the validation split and the test split are
  the same at every size.
- The learning rate of each (model, size) is the one of the grid with the
  best validation accuracy of seed 0 (`choose_rates`); the test split
  chooses nothing. That rate's runs then take every seed.
- Reported: mean ± std of the test accuracy over the seeds; the smallest
  size at which a family's mean reaches each target accuracy
  (`examples_needed`); and, per size, whether the chapter's order holds,
  fully connected < locally connected < convolution, and the gap between
  convolution and fully connected in points (`verdicts`; each group is
  its model of best validation accuracy at that size); and where the
  partly shared layer lands between locally connected and convolution
  (`partial_sharing`).
"""

import math
import os
import statistics

from constrained_zoo.markdown import markdown_table

from .chapter import CHAPTER_ORDER
from .paired import control_comparison, gap_growth, order_in_words, placement_in_words  # noqa: F401  (control_comparison: the study's API)
from .results import FAMILY_ORDER, collect, comparable, count_text, model_label, spread

#: The family of the partly shared layer, placed between locally connected and convolution.
PARTLY_SHARED = "low_rank_locally_connected"

#: The width multipliers a model may be scaled by to meet a budget.
WIDTHS = tuple(round(0.1 * k, 2) for k in range(2, 41))


def match_width(name, budget, count_params):
    """`(width, params)`: the width in `WIDTHS` whose model is nearest `budget` parameters (ties: smaller)."""
    sizes = [(abs(count_params(name, width=w) - budget), count_params(name, width=w), w) for w in WIDTHS]
    _, params, width = min(sizes)
    return width, params


def epochs_for(size, steps, batch_size):
    """Epochs of a `size`-example subset that make `steps` optimizer steps (at least that many)."""
    return math.ceil(steps / math.ceil(size / batch_size))


def folder(out, size, rate):
    """Where the runs of one (size, learning rate) go."""
    return os.path.join(out, f"n{size}", f"lr{rate:g}")


def choose_rates(out, sizes, rates):
    """`{(model, size): rate}`: per model and size, the rate whose seed-0 run validates best.

    A model whose seed-0 run is missing at some rate is left out (its grid
    is not complete).
    """
    validation = {}
    for size in sizes:
        for rate in rates:
            for run in collect(os.path.join(folder(out, size, rate), "runs")):
                if run["seed"] == 0 and run.get("best_val_accuracy") is not None:
                    validation.setdefault((run["model"], size), {})[rate] = run["best_val_accuracy"]
    return {key: max(rates, key=lambda r: (by_rate[r], -rates.index(r)))
            for key, by_rate in validation.items() if set(by_rate) == set(rates)}


def is_run_of(run, model, overrides=None):
    """Whether `run` (a `collect` dict) is `model`'s; with `overrides`, exactly those besides the budget's width."""
    if run["model"] != model:
        return False
    return overrides is None or {k: v for k, v in run["model_args"].items() if k != "width"} == overrides


def validation_by_rate(out, model, size, seeds, statistic="final_val_accuracy", overrides=None):
    """`{rate: mean of statistic over seeds 0..seeds-1}` of `model` at `size`, for rates where every seed finished.

    The protocol's rate choice (`choose_rate`): every seed trains at every
    rate, and the mean over the seeds, not one seed's figure, decides.
    `overrides` (a protocol's variant) counts only the runs with exactly
    those model overrides besides `width` (`is_run_of`).
    """
    found = {}
    _, rates = discover(out) if os.path.isdir(out) else ((), ())
    for rate in rates:
        runs = [r for r in collect(os.path.join(folder(out, size, rate), "runs"))
                if is_run_of(r, model, overrides) and r["seed"] < seeds and r.get(statistic) is not None]
        if len({r["seed"] for r in runs}) == seeds:
            found[rate] = statistics.fmean(r[statistic] for r in runs)
    return found


def choose_rate(by_rate):
    """The rate of best mean validation (`comparable`: equal to 6 decimals ties, and a tie goes to the smaller rate)."""
    return max(sorted(by_rate), key=lambda rate: (comparable(by_rate[rate]), -rate))


def rows(out, chosen):
    """One row per (model, size) at its chosen rate: test accuracy over the seeds."""
    found = []
    for (model, size), rate in sorted(chosen.items()):
        runs = [r for r in collect(os.path.join(folder(out, size, rate), "runs")) if r["model"] == model]
        if not runs:
            continue
        accuracies = [r["test_accuracy"] for r in runs]
        found.append({
            "model": model, "label": model_label(model, runs[0].get("model_args")), "family": runs[0]["family"],
            "params": runs[0]["params"], "trainable_params": runs[0]["trainable_params"], "size": size,
            "rate": rate, "test": statistics.fmean(accuracies),
            "std": spread(accuracies),
            "low": min(accuracies), "high": max(accuracies), "seeds": len(runs),
            "validation": statistics.fmean(r["best_val_accuracy"] for r in runs),
            "by_seed": {r["seed"]: r["test_accuracy"] for r in runs},
        })
    order = {f: i for i, f in enumerate(FAMILY_ORDER)}
    return sorted(found, key=lambda r: (order.get(r["family"], 99), r["model"], r["size"]))


def examples_needed(table, targets):
    """`{model: {target: smallest size whose mean test accuracy reaches it (`comparable`), or None}}`."""
    needed = {}
    for row in table:
        reached = needed.setdefault(row["model"], {t: None for t in targets})
        for target in targets:
            if comparable(row["test"]) >= target and (reached[target] is None or row["size"] < reached[target]):
                reached[target] = row["size"]
    return needed


def verdicts(table):
    """Per size: `(size, {group: (accuracy, model)}, holds, gap)`, the chapter's order by mean test accuracy.

    Each group counts as its model with the best mean validation accuracy at
    that size (the convolution group holds SharedConv and MultiChannelConv):
    the test split only measures. `holds` is None when a group is missing;
    `gap` is convolution minus fully connected, in points.
    """
    found = []
    for size in sorted({r["size"] for r in table}):
        groups = {}
        for group, families in CHAPTER_ORDER:
            candidates = [r for r in table if r["size"] == size and r["family"] in families]
            if candidates:
                best = max(candidates, key=lambda r: (r["validation"], -r["params"]))
                groups[group] = (best["test"], best["model"])
        if len(groups) < len(CHAPTER_ORDER):
            found.append((size, groups, None, None))
            continue
        values = [groups[g][0] for g, _ in CHAPTER_ORDER]  # convolution, locally connected, fully connected
        holds = all(a > b for a, b in zip(values, values[1:]))
        found.append((size, groups, holds, 100 * (values[0] - values[-1])))
    return found


def partial_sharing(table, judged=None):
    """Per partly shared row: `(size, model, test, local, conv, place)`, against locally connected and convolution.

    `local` and `conv` are the two groups' test accuracies at that size
    (groups as `verdicts` counts them; None when missing). `place` is
    (partly shared − locally connected) / (convolution − locally
    connected), 0 at locally connected and 1 at convolution; None unless
    convolution is ahead of locally connected (otherwise "the way from one
    to the other" means nothing). `judged`: `verdicts(table)` when the
    caller has it already.
    """
    groups = {size: found for size, found, _, _ in (judged if judged is not None else verdicts(table))}
    placed = []
    for row in (r for r in table if r["family"] == PARTLY_SHARED):
        found = groups.get(row["size"], {})
        local = found["locally connected"][0] if "locally connected" in found else None
        conv = found["convolution"][0] if "convolution" in found else None
        ahead = local is not None and conv is not None and conv > local
        place = (row["test"] - local) / (conv - local) if ahead else None
        placed.append((row["size"], row["model"], row["test"], local, conv, place))
    return placed


def _placement(test, local, conv, place):
    """'between …', 'below both …' or 'above both …', in words."""
    if local is None or conv is None:
        return "cannot be placed (a group is missing)"
    pair = f"locally connected {local:.4f} and convolution {conv:.4f}"
    if test < min(local, conv):
        return f"below both {pair}"
    if test > max(local, conv):
        return f"above both {pair}"
    fraction = f", {place:.2f} of the way from the first to the second" if place is not None else ""
    return f"between {pair}{fraction}"


def discover(out):
    """`(sizes, rates)` of a study's folder, from its `nSIZE/lrRATE/` folders (sorted)."""
    sizes, rates = set(), set()
    for name in os.listdir(out):
        if name.startswith("n") and name[1:].isdigit() and os.path.isdir(os.path.join(out, name)):
            sizes.add(int(name[1:]))
            rates.update(float(r[2:]) for r in os.listdir(os.path.join(out, name)) if r.startswith("lr"))
    return sorted(sizes), sorted(rates)


def report(out, targets):
    """The study's table rows and Markdown, from the finished runs in `out` (what `--report-only` writes)."""
    table = rows(out, choose_rates(out, *discover(out)))
    return table, markdown(table, targets)


def markdown(table, targets):
    """The tables: accuracy per (model, size), examples needed per target, the chapter's order per size."""
    sizes = sorted({r["size"] for r in table})
    models = list(dict.fromkeys(r["model"] for r in table))
    cell = {(r["model"], r["size"]): r for r in table}
    accuracies = []
    for model in models:
        first = next(r for r in table if r["model"] == model)
        cells = [f"{cell[model, s]['test']:.4f} ± {cell[model, s]['std']:.4f} ({cell[model, s]['seeds']}, "
                 f"lr {cell[model, s]['rate']:g})" if (model, s) in cell else "—" for s in sizes]
        accuracies.append([first["label"], first["family"], count_text(first), *cells])
    needed = [[model, *(f"{n:,}" if n else f"> {sizes[-1]:,}" for n in reached.values())]
              for model, reached in examples_needed(table, targets).items()]
    lines = [markdown_table(["model", "family", "weights (trainable)", *(f"n = {s:,}" for s in sizes)], accuracies,
                            right=range(2, len(sizes) + 3)),
             "", "Each cell: test accuracy, mean ± std over (seeds), at the learning rate chosen on validation.", "",
             markdown_table(["model", *(f"≥ {t:g}" for t in targets)], needed, right=range(1, len(targets) + 1)),
             "", "Examples needed: the smallest training-set size whose mean test accuracy reaches the target.", ""]
    judged = verdicts(table)
    for size, groups, holds, gap in judged:
        figures = " > ".join(f"{g} {a:.4f} ({m})" for g, (a, m) in sorted(groups.items(), key=lambda kv: -kv[1][0]))
        lines.append(f"- n = {size:,}: {figures}; {order_in_words(table, size, groups, holds)}.")
    groups_at = {size: groups for size, groups, _, _ in judged}
    for size, model, test, local, conv, place in partial_sharing(table, judged):
        lines.append(f"- n = {size:,}: partial sharing, {model} {test:.4f}, lands {_placement(test, local, conv, place)}"
                     f"{placement_in_words(table, size, groups_at[size], model)}.")
    growth = gap_growth(table, judged)
    if growth is not None:
        (small, large), (mean, low, high) = growth
        trend = ("widens" if low > 0 else "narrows" if high < 0 else "neither widens nor narrows resolvably") \
            if low is not None else "cannot be judged (one seed)"
        bounds = f", 95% interval [{low:+.1f}, {high:+.1f}]" if low is not None else ""
        lines.append(f"- As data shrink from n = {large:,} to n = {small:,}, the gap convolution − fully connected "
                     f"{trend}: it changes by {mean:+.1f} points{bounds} (paired by seed).")
    return "\n".join(lines) + "\n"

"""Differences paired by seed, with Student's t intervals: what turns a table of means into claims.

Seed k of two models of one study shares the validation split, the nested
training subset and the data order; seed k of a study and of its
pixel-shuffled control shares them too (the control only permutes the
positions). Every difference here is therefore taken seed by seed, and
its interval is Student's t over the seeds' differences: "A beats B" is
said only where it excludes zero, "not resolved" where it does not.
"""

import math
import statistics

from constrained_zoo.markdown import markdown_table

from .chapter import CHAPTER_ORDER


def t_interval(values, level):
    """`(mean, low, high)`: Student's t interval of the mean of `values` (None bounds for fewer than 2)."""
    from scipy import stats  # pylint: disable=import-outside-toplevel

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, None, None
    half = stats.t.ppf((1 + level) / 2, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def seed_differences(a, b, scale=1):
    """`{seed: scale * (a[seed] - b[seed])}` over the seeds both `{seed: value}` dicts have, in seed order."""
    return {s: scale * (a[s] - b[s]) for s in sorted(set(a) & set(b))}


def by_seed_points(a, b):
    """The differences a[seed] − b[seed] in points, seed by seed, over the seeds both have.

    Args:
        a: `{seed: accuracy}` of the first model.
        b: `{seed: accuracy}` of the second.

    Returns:
        `{seed: 100 * (a[seed] - b[seed])}`, in the order of the seeds.
    """
    return seed_differences(a, b, 100)


def growth(by_seed_small, by_seed_large, level):
    """`(mean, low, high, n)`: a difference at the smallest size minus at the largest, paired by seed."""
    change = seed_differences(by_seed_small, by_seed_large)
    return (*t_interval(list(change.values()), level), len(change))


def paired_points(a, b, level=0.95):
    """`(mean, low, high)` in points of a[seed] − b[seed] over common seeds (`{seed: accuracy}`); t-interval."""
    return t_interval(list(by_seed_points(a, b).values()), level)


def _cell(table, model, size):
    return next(r for r in table if r["model"] == model and r["size"] == size)


def order_in_words(table, size, groups, holds):
    """The chapter's order at one size, each step with its paired 95% interval; 'not resolved' where one covers 0."""
    if holds is None:
        return "the chapter's order cannot be checked"
    names = [g for g, _ in CHAPTER_ORDER]
    steps, resolved, against = [], True, False
    for better, worse in zip(names, names[1:]):
        mean, low, high = paired_points(_cell(table, groups[better][1], size)["by_seed"],
                                        _cell(table, groups[worse][1], size)["by_seed"])
        steps.append(f"{better} − {worse} {mean:+.1f} points" + (f" [{low:+.1f}, {high:+.1f}]" if low is not None else ""))
        resolved &= low is not None and low > 0
        against |= high is not None and high < 0
    verdict = ("the chapter's order holds" if resolved else "the chapter's order does NOT hold" if against
               else "the chapter's order is not resolved")
    return f"{verdict} ({'; '.join(steps)}; 95% intervals paired by seed)"


def ahead(mean, low, high, more, less):
    """Who is ahead by a paired interval of `more − less`, or 'not resolved' (None bounds: one seed)."""
    if low is None:
        return "one seed: no interval"
    return f"{more} ahead" if low > 0 else f"{less} ahead" if high < 0 else "not resolved"


def _side(_, low, high):
    return 0 if low is None else 1 if low > 0 else -1 if high < 0 else 0


def placement_in_words(table, size, groups, model):
    """Partial sharing (`model`) against locally connected and convolution at `size`, paired by seed, in words.

    "Between" is resolved only when both intervals exclude zero: partly
    shared − locally connected above it and convolution − partly shared
    above it. `groups`: `verdicts`' groups at that size.
    """
    if "locally connected" not in groups or "convolution" not in groups:
        return ""
    mine = _cell(table, model, size)["by_seed"]
    local = _cell(table, groups["locally connected"][1], size)["by_seed"]
    conv = _cell(table, groups["convolution"][1], size)["by_seed"]
    above, below = paired_points(mine, local), paired_points(conv, mine)
    steps = [f"partly shared − locally connected {_interval_text(*above)} points "
             f"({ahead(*above, 'partly shared', 'locally connected')})",
             f"convolution − partly shared {_interval_text(*below)} points "
             f"({ahead(*below, 'convolution', 'partly shared')})"]
    sides = (_side(*above), _side(*below))  # +1: the first named ahead, -1: the second, 0: not resolved
    verdict = {(1, 1): "between the two, resolved on both sides", (-1, 1): "below both, resolved",
               (1, -1): "above both, resolved"}.get(sides, "its place is not resolved")
    return f"; paired by seed, {verdict} ({'; '.join(steps)}; 95% intervals)"


def gap_growth(table, judged):
    """`((smallest, largest), (mean, low, high))`: the gap convolution − fully connected at the smallest size
    minus at the largest, paired by seed, in points; None with fewer than two judged sizes."""
    sizes = [size for size, _, holds, _ in judged if holds is not None]
    if len(sizes) < 2:
        return None
    by_size = {size: groups for size, groups, _, _ in judged}

    def gap(size):
        return by_seed_points(_cell(table, by_size[size]["convolution"][1], size)["by_seed"],
                              _cell(table, by_size[size]["fully connected"][1], size)["by_seed"])

    return (sizes[0], sizes[-1]), growth(gap(sizes[0]), gap(sizes[-1]), 0.95)[:3]


def _by_model(table):
    return {(r["model"], r["size"]): r for r in table}


def _gap_by_seed(cells, conv, full, size):
    return by_seed_points(cells[conv, size]["by_seed"], cells[full, size]["by_seed"])


def _interval_text(mean, low, high):
    return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]" if low is not None else f"{mean:+.1f}"


def _growth_words(low, high):
    if low is None:
        return "cannot be judged"
    return "grows as data shrink" if low > 0 else "shrinks as data shrink" if high < 0 else "not resolved"


def _sizes_header(sizes):
    return [f"n = {s:,}" for s in sizes]


def _true_minus_shuffled(true, control, models, sizes):
    """The table of each model's true order minus its shuffled control, per size, paired by seed."""
    rows = [[model, true[model, sizes[0]]["family"],
             *(_interval_text(*paired_points(true[model, s]["by_seed"], control[model, s]["by_seed"])) for s in sizes)]
            for model in models]
    return markdown_table(["model", "family", *_sizes_header(sizes)], rows, right=range(2, len(sizes) + 2))


def _gap_parts(true, control, conv, full, sizes):
    """`[(label, {size: {seed: points}})]`: the gap `conv − full` in true order, shuffled, and their difference."""
    raw = {s: _gap_by_seed(true, conv, full, s) for s in sizes}
    shuffled = {s: _gap_by_seed(control, conv, full, s) for s in sizes}
    spatial = {s: seed_differences(raw[s], shuffled[s]) for s in sizes}
    return [(f"{conv} − {full}, true order", raw), (f"{conv} − {full}, shuffled", shuffled),
            (f"{conv} − {full}, spatial part (true minus shuffled)", spatial)]


def _change(values, small, large):
    """`(mean, low, high)`: the value at size `small` minus at `large`, paired by seed; 95% t-interval."""
    return growth(values[small], values[large], 0.95)[:3]


def _spatial_sentence(conv, full, raw_change, spatial_change, small, large):
    return (f"- {conv} − {full}: the raw gap changes by {_interval_text(*raw_change)} points from n = {large:,} "
            f"to n = {small:,} ({_growth_words(*raw_change[1:])}); its spatial part changes by "
            f"{_interval_text(*spatial_change)} ({_growth_words(*spatial_change[1:])}).")


def _gap_changes(true, control, full, convs, sizes):
    """`(table, sentences)`: each convolution's gap over `full`, its spatial part, and how each changes with size."""
    small, large = sizes[0], sizes[-1]
    rows, sentences = [], []
    for conv in convs:
        parts = _gap_parts(true, control, conv, full, sizes)
        changes = [_change(values, small, large) for _, values in parts]
        rows += [[label, *(_interval_text(*t_interval(list(values[s].values()), 0.95)) for s in sizes),
                  _interval_text(*change)] for (label, values), change in zip(parts, changes)]
        sentences.append(_spatial_sentence(conv, full, changes[0], changes[2], small, large))
    header = ["difference", *_sizes_header(sizes), f"n = {small:,} minus n = {large:,}"]
    return markdown_table(header, rows, right=range(1, len(sizes) + 2)), sentences


def control_comparison(true_table, control_table):
    """What the spatial order buys: a study against its pixel-shuffled control, paired by seed, as Markdown.

    Seed k of both studies shares the validation split and the nested
    subset (the control only permutes the positions), so each difference is
    paired by seed, with its 95% t-interval. For each convolution family
    separately (never "the best of the group"): the raw gap over the fully
    connected model, its spatial part (true order minus shuffled), and how
    each changes from the largest size to the smallest.
    """
    true, control = _by_model(true_table), _by_model(control_table)
    sizes = sorted({size for _, size in true} & {size for _, size in control})
    models = [m for m in dict.fromkeys(r["model"] for r in true_table) if all((m, s) in control for s in sizes)]
    lines = [_true_minus_shuffled(true, control, models, sizes), "",
             "Each cell: true order minus shuffled, in points of test accuracy, paired by seed, with its 95% "
             "t-interval.", ""]
    full = next((m for m in models if true[m, sizes[0]]["family"] in ("mlp", "fully_connected")), None)
    convs = [m for m in models if true[m, sizes[0]]["family"] in ("shared_conv", "multi_channel_conv")]
    if full is None or not convs or len(sizes) < 2:
        return "\n".join(lines) + "\n"
    table, sentences = _gap_changes(true, control, full, convs, sizes)
    lines += [table, "", "Each cell: mean over seeds in points with its 95% t-interval, paired by seed; the last "
              "column, the difference at the smallest size minus at the largest.", ""] + sentences
    return "\n".join(lines) + "\n"

"""The tables of a protocol study's report: cells, paired differences, the control's part, convergence.

Each function takes the protocol and its complete cells, `{(condition,
name, size): cell}` (`protocol_report.gather`), and returns Markdown
lines. Every difference is in points, paired by seed, with Student's t
interval at the protocol's level, and "not resolved" where it covers 0.
"""

import csv
import os
import statistics

from constrained_zoo.markdown import markdown_table

from .paired import ahead, by_seed_points, growth, seed_differences, t_interval
from .protocol import ProtocolError

#: The groups of the chapter, each one family; the order of the tables.
GROUPS = (("fully connected", ("mlp", "fully_connected")), ("locally connected", ("locally_connected",)),
          ("partly shared", ("low_rank_locally_connected",)), ("SharedConv", ("shared_conv",)),
          ("MultiChannelConv", ("multi_channel_conv",)))
#: The differences reported when a protocol lists no `comparisons`: (better-by-the-chapter, worse).
DIFFERENCES = (("locally connected", "fully connected"), ("SharedConv", "fully connected"),
               ("MultiChannelConv", "fully connected"), ("SharedConv", "locally connected"),
               ("MultiChannelConv", "locally connected"), ("partly shared", "locally connected"),
               ("MultiChannelConv", "partly shared"))
#: A gain of validation accuracy over the last 10% of epochs above this marks a run "still improving".
STILL_IMPROVING = 0.005


def group_of(family):
    """The chapter's group of a model family ('fully connected', ..., 'MultiChannelConv')."""
    return next(group for group, families in GROUPS if family in families)


def ordered(protocol, cells):
    """The protocol's model names that have cells, in the chapter's group order, then the file's."""
    group = {name: cell["group"] for (_, name, _), cell in cells.items()}
    rank = {g: i for i, (g, _) in enumerate(GROUPS)}
    return sorted(group, key=lambda name: (rank[group[name]], protocol.models.index(name)))


def accuracy(cell):
    """`{seed: test accuracy}` of a cell."""
    return {seed: run["test_accuracy"] for seed, run in cell["runs"].items()}


def said(mean, low, high, more, less, grows=False):
    """The verdict of one interval in words: who is ahead, or 'not resolved'."""
    if not grows or low is None:
        return ahead(mean, low, high, more, less)
    return "grows as data shrink" if low > 0 else "shrinks as data shrink" if high < 0 else "not resolved"


def paired_difference(a, b, level):
    """`(mean, low, high, n, by_seed)`: cell `a` minus cell `b` in points, paired by seed, with its t-interval."""
    by_seed = by_seed_points(accuracy(a), accuracy(b))
    return (*t_interval(list(by_seed.values()), level), len(by_seed), by_seed)


def difference_row(label, mean, low, high, n, verdict, size):
    """The cells of one row of a differences table; `size`: an int, or `"—"` for a change between sizes."""
    bounds = f"[{low:+.1f}, {high:+.1f}]" if low is not None else "—"
    return [label, f"{size:,}" if isinstance(size, int) else size, f"{mean:+.1f}", bounds, n, verdict]


def differences_table(first, level, rows):
    """A table of `difference_row`s as Markdown lines, its first column titled `first`."""
    return markdown_table([first, "n", "mean (points)", f"{level:.0%} interval", "seeds", "verdict"], rows,
                          right=(1, 2, 3, 4)).split("\n")


def _cell_text(cell, level):
    """One cell of the table of cells: mean ± std, its t-interval, the chosen rate (', edge' at the ladder's end)."""
    values = list(accuracy(cell).values())
    mean, low, high = t_interval(values, level)
    edge = ", edge" if cell["edge"] else ""
    return f"{mean:.4f} ± {statistics.stdev(values):.4f} [{low:.4f}, {high:.4f}] (lr {cell['rate']:g}{edge})"


def table_of_cells(protocol, cells):
    """Test accuracy per (condition, model, size): mean ± std, its interval, the chosen rate; both counts."""
    level, sizes = protocol.interval, sorted(protocol.sizes)
    rows = []
    for condition in protocol.conditions:
        for name in ordered(protocol, cells):
            mine = [cells.get((condition.name, name, s)) for s in sizes]
            if not any(mine):
                continue
            first = next(c for c in mine if c)
            rows.append([condition.name, name, first["group"],
                         f"{first['params']:,} ({first['trainable_params']:,})",
                         *(_cell_text(cell, level) for cell in mine)])
    header = ["condition", "model", "group", "weights (trainable)", *(f"n = {s:,}" for s in sizes)]
    lines = markdown_table(header, rows, right=range(3, len(header))).split("\n")
    lines += ["", f"Each cell: test accuracy, mean ± std over {protocol.seeds} seeds, its {level:.0%} t-interval, "
              "and the learning rate chosen on validation (mean over the seeds of the last epoch's validation "
              "accuracy; 'edge': the ladder ended there). Weights: every weight the model holds (Keras "
              "`count_params`); trainable in parentheses."]
    return lines


def pairs(protocol, cells):
    """`[(label, a, b, sizes, more, less)]`: the protocol's `comparisons`, else the chapter's group differences."""
    if protocol.comparisons:
        return [(f"{c.a} − {c.b} ({c.role})", c.a, c.b, c.sizes, c.a, c.b) for c in protocol.comparisons]
    by_group = {}
    for (_, name, _), cell in cells.items():
        by_group.setdefault(cell["group"], set()).add(name)
    crowded = {g: sorted(n) for g, n in by_group.items() if len(n) > 1}
    if crowded:
        raise ProtocolError(f"{protocol.path}: the group(s) {crowded} hold several models, so the chapter's "
                         "differences are ambiguous; list the differences wanted in `comparisons`.")
    one = {g: next(iter(n)) for g, n in by_group.items()}
    return [(f"{more} − {less}", one[more], one[less], tuple(sorted(protocol.sizes)), more, less)
            for more, less in DIFFERENCES if more in one and less in one]


def differences(protocol, cells, condition):
    """`{label: {size: (mean, low, high, n, by_seed)}}` of one condition, in points, paired by seed."""
    found = {}
    for label, a_name, b_name, sizes, _, _ in pairs(protocol, cells):
        for size in sizes:
            a, b = cells.get((condition, a_name, size)), cells.get((condition, b_name, size))
            if a and b:
                found.setdefault(label, {})[size] = paired_difference(a, b, protocol.interval)
    return found


def _growth(by_size, level):
    """The difference at the smallest size minus at the largest, paired by seed: `(mean, low, high, n)`."""
    return growth(by_size[min(by_size)][4], by_size[max(by_size)][4], level)


def _condition_rows(protocol, cells, differences_by_size):
    """The `difference_row`s of one condition: each difference per size, then its change between sizes."""
    rows = []
    for label, _, _, _, more, less in pairs(protocol, cells):
        by_size = differences_by_size.get(label, {})
        for size in sorted(by_size):
            mean, low, high, n, _ = by_size[size]
            rows.append(difference_row(label, mean, low, high, n, said(mean, low, high, more, less), size))
        if len(by_size) > 1:
            mean, low, high, n = _growth(by_size, protocol.interval)
            rows.append(difference_row(f"{label}: n = {min(by_size):,} minus n = {max(by_size):,}", mean, low, high,
                                       n, said(mean, low, high, more, less, grows=True), "—"))
    return rows


def comparison_tables(protocol, cells):
    """Per condition: each difference per size and its growth; then the control's part of each."""
    lines, by_condition = [], {c.name: differences(protocol, cells, c.name) for c in protocol.conditions}
    for condition in protocol.conditions:
        rows = _condition_rows(protocol, cells, by_condition[condition.name])
        lines += ["", f"#### {condition.name}: one model minus another, paired by seed", ""]
        lines += differences_table("difference", protocol.interval, rows)
    if len(protocol.conditions) == 2:
        lines += control_tables(protocol, cells, by_condition)
    return lines


def _model_control_rows(protocol, cells, true, control):
    """The `difference_row`s of each model's true order minus its control, per size."""
    rows = []
    for name in ordered(protocol, cells):
        for size in sorted(protocol.sizes):
            a, b = cells.get((true, name, size)), cells.get((control, name, size))
            if a and b:
                mean, low, high, n, _ = paired_difference(a, b, protocol.interval)
                rows.append(difference_row(name, mean, low, high, n, said(mean, low, high, true, control), size))
    return rows


def spatial_parts(by_size, other):
    """`{size: {seed: points}}`: one difference in true order minus the same in the control, seed by seed.

    `by_size` and `other`: `differences(...)[label]` of the two conditions.
    """
    return {size: seed_differences(by_size[size][4], other[size][4]) for size in sorted(set(by_size) & set(other))}


def _difference_control_rows(label, by_size, other, level, true, control):
    """The `difference_row`s of one difference's true order minus its control, per size, then between sizes."""
    rows, parts = [], spatial_parts(by_size, other)
    for size in parts:
        mean, low, high = t_interval(list(parts[size].values()), level)
        rows.append(difference_row(f"({label}) {true} minus {control}", mean, low, high, len(parts[size]),
                                   said(mean, low, high, true, control), size))
    if len(parts) > 1:
        small, large = min(parts), max(parts)
        mean, low, high, n = growth(parts[small], parts[large], level)
        rows.append(difference_row(f"({label}) {true} minus {control}: n = {small:,} minus n = {large:,}", mean, low,
                                   high, n, said(mean, low, high, "", "", grows=True), "—"))
    return rows


def control_tables(protocol, cells, by_condition):
    """The spatial prior's part: true order minus the control, per model and per difference, paired by seed."""
    true, control = (c.name for c in protocol.conditions)
    rows = _model_control_rows(protocol, cells, true, control)
    for label, by_size in by_condition[true].items():
        other = by_condition[control].get(label)
        if other:
            rows += _difference_control_rows(label, by_size, other, protocol.interval, true, control)
    return (["", f"#### The spatial prior's part: {true} minus {control}, paired by seed", ""]
            + differences_table("model or difference", protocol.interval, rows))


def _history(run_dir):
    """`{epoch: validation accuracy}` of a run's history.csv, the epochs that were validated (--validation-points)."""
    with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
        return {int(r["epoch"]): float(r["val_accuracy"]) for r in csv.DictReader(f) if r.get("val_accuracy")}


def _convergence_of(cell):
    """`[epochs, best epoch, gain, verdict]` of one cell as text: the last run's epochs, the means over its runs."""
    best, gains, epochs = [], [], 0
    for run in cell["runs"].values():
        history = _history(run["run_dir"])
        epochs = max(history)
        tail = max(1, epochs // 10)
        best.append(max(history, key=lambda e: (history[e], -e)))
        before = max((e for e in history if e <= epochs - tail), default=min(history))
        gains.append(100 * (history[epochs] - history[before]))
    gain = statistics.fmean(gains)
    flag = "still improving" if gain > 100 * STILL_IMPROVING else "converged"
    return [epochs, f"{statistics.fmean(best):.1f}", f"{gain:+.2f}", flag]


def convergence(protocol, cells):
    """At the largest size, per condition and model: best epoch, epochs, the last 10%'s validation gain.

    The gain is the last epoch's validation accuracy minus that of the
    latest validated epoch at least a tenth of the epochs before it (the
    epoch exactly a tenth before when every epoch is validated).
    """
    size = max(protocol.sizes)
    rows = [[condition, name, *_convergence_of(cell)] for (condition, name, cell_size), cell in cells.items()
            if cell_size == size]
    header = ["condition", "model", "epochs", "best validation epoch (mean over seeds)",
              "validation gained over the last 10% of epochs (points)", "verdict"]
    return markdown_table(header, rows, right=(2, 3, 4)).split("\n")


def examples_needed(protocol, cells):
    """Per condition and model: the smallest size whose mean test accuracy reaches each target."""
    rows = []
    for condition in protocol.conditions:
        for name in ordered(protocol, cells):
            mine = {s: cells[condition.name, name, s] for s in protocol.sizes if (condition.name, name, s) in cells}
            if not mine:
                continue
            means = {s: statistics.fmean(accuracy(c).values()) for s, c in mine.items()}
            reached = [min((s for s, m in means.items() if round(m, 6) >= t), default=None) for t in protocol.targets]
            rows.append([condition.name, name, *(f"{n:,}" if n else f"> {max(protocol.sizes):,}" for n in reached)])
    header = ["condition", "model", *(f"≥ {t:g}" for t in protocol.targets)]
    return markdown_table(header, rows, right=range(2, len(header))).split("\n")

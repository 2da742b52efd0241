"""The report of a protocol study: every comparison with its interval, the control beside it.

`python -m constrained_zoo.training.sample_efficiency --protocol FILE --report-only`
writes `report.md` and `cells.csv` beside the protocol file. It reads the
test split only once the protocol is complete: until every (condition,
model, size) has its rate chosen on validation, with every seed, and no
edge left to extend, it prints what is missing and no accuracy at all.

Every difference is paired by seed: seed k of two models shares the
validation split, the nested training subset and the data order, and seed
k of the two conditions shares them too (the control only permutes the
positions). The interval is Student's t over the seeds' differences.
"""

import csv
import io
import os
import statistics
import sys

from constrained_zoo.atomic import write_text
from . import protocol as protocols
from .paired import t_interval
from .results import collect
from .sample_efficiency import choose_rate, folder, validation_by_rate

#: The groups of the chapter, each one family; the order of the tables.
GROUPS = (("fully connected", ("mlp", "fully_connected")), ("locally connected", ("locally_connected",)),
          ("partly shared", ("low_rank_locally_connected",)), ("SharedConv", ("shared_conv",)),
          ("MultiChannelConv", ("multi_channel_conv",)))
#: The differences reported: (better-by-the-chapter, worse).
DIFFERENCES = (("locally connected", "fully connected"), ("SharedConv", "fully connected"),
               ("MultiChannelConv", "fully connected"), ("SharedConv", "locally connected"),
               ("MultiChannelConv", "locally connected"), ("partly shared", "locally connected"),
               ("MultiChannelConv", "partly shared"))
#: A gain of validation accuracy over the last 10% of epochs above this marks a run "still improving".
STILL_IMPROVING = 0.005


def group_of(family):
    """The chapter's group of a model family ('fully connected', ..., 'MultiChannelConv')."""
    return next(group for group, families in GROUPS if family in families)


def cell_status(protocol, condition, model, size):
    """`(rate, edge, missing)`: the chosen rate (None while the grid is incomplete), whether it is an edge, what is missing."""
    by_rate = validation_by_rate(condition.out, model, size, protocol.seeds, protocol.selection)
    missing = [r for r in protocol.rates if r not in by_rate]
    if missing:
        return None, False, f"rates {missing}"
    rate = choose_rate(by_rate)
    beyond = protocols.next_rate(protocol.ladder, list(by_rate), rate)
    if beyond is not None:
        return None, True, f"the edge {rate:g} won: rate {beyond:g}"
    return rate, rate in (min(by_rate), max(by_rate)), ""


def runs_by_seed(condition, model, size, rate, seeds):
    """`{seed: results.json dict}` of `model`'s finished runs at (size, rate), seeds below `seeds`."""
    return {r["seed"]: r for r in collect(os.path.join(folder(condition.out, size, rate), "runs"))
            if r["model"] == model and r["seed"] < seeds}


def gather(protocol):
    """`(cells, missing)`: `{(condition, group, size): cell}` once complete, else `({}, [what is missing])`."""
    cells, missing = {}, []
    for condition in protocol.conditions:
        for model in protocol.models:
            for size in protocol.sizes:
                rate, edge, lack = cell_status(protocol, condition, model, size)
                if rate is None:
                    missing.append(f"{condition.name}, {model}, n = {size}: {lack}")
                    continue
                runs = runs_by_seed(condition, model, size, rate, protocol.seeds)
                first = next(iter(runs.values()))
                cells[condition.name, group_of(first["family"]), size] = {
                    "condition": condition.name, "model": model, "group": group_of(first["family"]),
                    "size": size, "rate": rate, "edge": edge, "runs": runs,
                    "params": first.get("params"), "trainable_params": first["trainable_params"],
                }
    return (cells, []) if not missing else ({}, missing)


def _accuracy(cell):
    return {seed: run["test_accuracy"] for seed, run in cell["runs"].items()}


def paired(a, b, level):
    """`(mean, low, high, n)` of a[seed] - b[seed] over their common seeds, in points."""
    seeds = sorted(set(a) & set(b))
    return (*t_interval([100 * (a[s] - b[s]) for s in seeds], level), len(seeds))


def said(mean, low, high, more, less, grows=False):
    """The verdict of one interval in words: who is ahead, or 'not resolved'."""
    if low is None:
        return "one seed: no interval"
    if low > 0:
        return "grows as data shrink" if grows else f"{more} ahead"
    if high < 0:
        return "shrinks as data shrink" if grows else f"{less} ahead"
    return "not resolved"


def _row(label, mean, low, high, n, verdict):
    bounds = f"[{low:+.1f}, {high:+.1f}]" if low is not None else "—"
    return f"| {label} | {mean:+.1f} | {bounds} | {n} | {verdict} |"


def table_of_cells(protocol, cells):
    """Test accuracy per (condition, model, size): mean ± std, its interval, the chosen rate; both counts."""
    level = protocol.interval
    lines = [f"| condition | model | group | weights (trainable) | "
             + " | ".join(f"n = {s:,}" for s in sorted(protocol.sizes)) + " |",
             "|---|---|---|---:|" + "---:|" * len(protocol.sizes)]
    for condition in protocol.conditions:
        for group, _ in GROUPS:
            row = [cells.get((condition.name, group, s)) for s in sorted(protocol.sizes)]
            if not any(row):
                continue
            first = next(c for c in row if c)
            texts = []
            for cell in row:
                values = list(_accuracy(cell).values())
                mean, low, high = t_interval(values, level)
                edge = ", edge" if cell["edge"] else ""
                texts.append(f"{mean:.4f} ± {statistics.stdev(values):.4f} [{low:.4f}, {high:.4f}] "
                             f"(lr {cell['rate']:g}{edge})")
            lines.append(f"| {condition.name} | {first['model']} | {group} | {first['params']:,} "
                         f"({first['trainable_params']:,}) | " + " | ".join(texts) + " |")
    lines += ["", f"Each cell: test accuracy, mean ± std over {protocol.seeds} seeds, its {level:.0%} t-interval, "
              "and the learning rate chosen on validation (mean over the seeds of the last epoch's validation "
              "accuracy; 'edge': the ladder ended there). Weights: every weight the model holds (Keras "
              "`count_params`); trainable in parentheses."]
    return lines


def differences(protocol, cells, condition):
    """`{(more, less): {size: (mean, low, high, n, by_seed)}}` of one condition, in points, paired by seed."""
    found = {}
    for more, less in DIFFERENCES:
        for size in protocol.sizes:
            a, b = cells.get((condition, more, size)), cells.get((condition, less, size))
            if a and b:
                x, y = _accuracy(a), _accuracy(b)
                by_seed = {s: 100 * (x[s] - y[s]) for s in sorted(set(x) & set(y))}
                found.setdefault((more, less), {})[size] = (*t_interval(list(by_seed.values()), protocol.interval),
                                                            len(by_seed), by_seed)
    return found


def _growth(by_size, level):
    """The difference at the smallest size minus at the largest, paired by seed: `(mean, low, high, n)`."""
    small, large = by_size[min(by_size)][4], by_size[max(by_size)][4]
    seeds = sorted(set(small) & set(large))
    return (*t_interval([small[s] - large[s] for s in seeds], level), len(seeds))


def comparison_tables(protocol, cells):
    """Per condition: each difference per size and its growth; then the control's part of each."""
    level, sizes = protocol.interval, sorted(protocol.sizes)
    lines, by_condition = [], {c.name: differences(protocol, cells, c.name) for c in protocol.conditions}
    header = ["| difference | n | mean (points) | " + f"{level:.0%} interval | seeds | verdict |",
              "|---|---:|---:|---:|---:|---|"]
    for condition in protocol.conditions:
        lines += ["", f"#### {condition.name}: one model minus another, paired by seed", ""] + header
        for (more, less), by_size in by_condition[condition.name].items():
            for size in sizes:
                mean, low, high, n, _ = by_size[size]
                lines.append(_row(f"{more} − {less}", mean, low, high, n, said(mean, low, high, more, less))
                             .replace(f"| {mean:+.1f}", f"| {size:,} | {mean:+.1f}", 1))
            mean, low, high, n = _growth(by_size, level)
            lines.append(_row(f"{more} − {less}: n = {sizes[0]:,} minus n = {sizes[-1]:,}", mean, low, high, n,
                              said(mean, low, high, more, less, grows=True)).replace(" | ", " | — | ", 1))
    if len(protocol.conditions) == 2:
        lines += control_tables(protocol, cells, by_condition)
    return lines


def control_tables(protocol, cells, by_condition):
    """The spatial prior's part: true order minus the control, per model and per difference, paired by seed."""
    level, sizes = protocol.interval, sorted(protocol.sizes)
    true, control = (c.name for c in protocol.conditions)
    lines = ["", f"#### The spatial prior's part: {true} minus {control}, paired by seed", "",
             f"| model or difference | n | mean (points) | {level:.0%} interval | seeds | verdict |",
             "|---|---:|---:|---:|---:|---|"]
    for group, _ in GROUPS:
        for size in sizes:
            a, b = cells.get((true, group, size)), cells.get((control, group, size))
            if a and b:
                mean, low, high, n = paired(_accuracy(a), _accuracy(b), level)
                lines.append(_row(a["model"], mean, low, high, n, said(mean, low, high, true, control))
                             .replace(f"| {mean:+.1f}", f"| {size:,} | {mean:+.1f}", 1))
    for key, by_size in by_condition[true].items():
        other = by_condition[control].get(key)
        if not other:
            continue
        parts = {}
        for size in sizes:
            x, y = by_size[size][4], other[size][4]
            parts[size] = {s: x[s] - y[s] for s in sorted(set(x) & set(y))}
            mean, low, high = t_interval(list(parts[size].values()), level)
            lines.append(_row(f"({key[0]} − {key[1]}) {true} minus {control}", mean, low, high, len(parts[size]),
                              said(mean, low, high, true, control)).replace(f"| {mean:+.1f}",
                                                                           f"| {size:,} | {mean:+.1f}", 1))
        seeds = sorted(set(parts[sizes[0]]) & set(parts[sizes[-1]]))
        mean, low, high = t_interval([parts[sizes[0]][s] - parts[sizes[-1]][s] for s in seeds], level)
        lines.append(_row(f"({key[0]} − {key[1]}) {true} minus {control}: n = {sizes[0]:,} minus n = "
                          f"{sizes[-1]:,}", mean, low, high, len(seeds),
                          said(mean, low, high, "", "", grows=True)).replace(" | ", " | — | ", 1))
    return lines


def _history(run_dir):
    """The validation accuracies of a run's history.csv, by epoch."""
    with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
        return [float(row["val_accuracy"]) for row in csv.DictReader(f)]


def convergence(protocol, cells):
    """At the largest size, per condition and model: best epoch, epochs, the last 10%'s validation gain."""
    size = max(protocol.sizes)
    lines = ["| condition | model | epochs | best validation epoch (mean over seeds) | "
             "validation gained over the last 10% of epochs (points) | |", "|---|---|---:|---:|---:|---|"]
    for (condition, _, cell_size), cell in cells.items():
        if cell_size != size:
            continue
        best, gains, epochs = [], [], 0
        for seed in cell["runs"]:
            run_dir = os.path.join(folder(protocol.condition(condition).out, size, cell["rate"]), "runs")
            found = [os.path.join(root) for root, _, files in os.walk(run_dir)
                     if "results.json" in files and os.path.basename(root) == f"seed{seed}"
                     and os.path.basename(os.path.dirname(root)).split("-")[0] == cell["model"]]
            history = _history(found[0])
            epochs, tail = len(history), max(1, len(history) // 10)
            best.append(1 + max(range(len(history)), key=lambda e: (history[e], -e)))
            gains.append(100 * (history[-1] - history[-1 - tail]))
        gain = statistics.fmean(gains)
        flag = "still improving" if gain > 100 * STILL_IMPROVING else "converged"
        lines.append(f"| {condition} | {cell['model']} | {epochs} | {statistics.fmean(best):.1f} | {gain:+.2f} | "
                     f"{flag} |")
    return lines


def examples_needed(protocol, cells):
    """Per condition and model: the smallest size whose mean test accuracy reaches each target."""
    lines = ["| condition | model | " + " | ".join(f"≥ {t:g}" for t in protocol.targets) + " |",
             "|---|---|" + "---:|" * len(protocol.targets)]
    for condition in protocol.conditions:
        for group, _ in GROUPS:
            mine = {s: cells[condition.name, group, s] for s in protocol.sizes if (condition.name, group, s) in cells}
            if not mine:
                continue
            means = {s: statistics.fmean(_accuracy(c).values()) for s, c in mine.items()}
            reached = [min((s for s, m in means.items() if round(m, 6) >= t), default=None) for t in protocol.targets]
            lines.append(f"| {condition.name} | {next(iter(mine.values()))['model']} | "
                         + " | ".join(f"{n:,}" if n else f"> {max(protocol.sizes):,}" for n in reached) + " |")
    return lines


def cells_csv(cells):
    """One row per (condition, model, size, seed) at the chosen rate: the data behind every table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["condition", "model", "group", "params", "trainable_params", "size", "rate", "edge", "seed",
                     "final_val_accuracy", "test_accuracy"])
    for cell in cells.values():
        for seed, run in sorted(cell["runs"].items()):
            writer.writerow([cell["condition"], cell["model"], cell["group"], cell["params"],
                             cell["trainable_params"], cell["size"], cell["rate"], cell["edge"], seed,
                             run.get("final_val_accuracy"), run["test_accuracy"]])
    return buffer.getvalue()


def markdown(protocol, cells):
    """The whole report, from the protocol and its complete cells."""
    lines = [f"### {protocol.study}", "", protocol.question, "",
             f"Protocol: `{protocol.path}` (committed before the first run). Written by `python -m "
             f"training.sample_efficiency --protocol {protocol.path} --report-only`.", ""]
    lines += table_of_cells(protocol, cells) + comparison_tables(protocol, cells)
    lines += ["", "#### Convergence at the largest size", ""] + convergence(protocol, cells)
    if protocol.targets:
        lines += ["", "#### Examples needed", ""] + examples_needed(protocol, cells)
    return "\n".join(lines) + "\n"


def main(protocol):
    """Writes report.md and cells.csv beside the protocol once it is complete; otherwise says what is missing."""
    cells, missing = gather(protocol)
    if missing:
        print(f"{protocol.study}: the protocol is not complete, so no accuracy is shown; missing "
              f"({len(missing)}):\n  " + "\n  ".join(missing), file=sys.stderr)
        return 3
    here = os.path.dirname(protocol.path) or "."
    text = markdown(protocol, cells)
    write_text(os.path.join(here, "report.md"), text)
    write_text(os.path.join(here, "cells.csv"), cells_csv(cells))
    print(text, end="")
    return 0


def finished_runs(protocol):
    """How many runs of the protocol have finished (every condition, size and rate tried so far)."""
    return sum(1 for condition in protocol.conditions if os.path.isdir(condition.out)
               for root, _, files in os.walk(condition.out) if "results.json" in files)


def block(protocol):
    """The docs' block for a protocol: its report once complete; until then what is done, and no accuracy."""
    cells, missing = gather(protocol)
    if not missing:
        return markdown(protocol, cells)
    total = len(protocol.conditions) * len(protocol.models) * len(protocol.sizes)
    return (f"In progress: {total - len(missing)} of {total} cells (condition × model × size) have their rate "
            f"chosen with every seed; {finished_runs(protocol)} runs have finished. No accuracy is shown until "
            f"every cell is complete. Protocol: `{protocol.path}`.\n")

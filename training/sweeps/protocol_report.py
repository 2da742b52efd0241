"""The report of a protocol study: every comparison with its interval, the control beside it.

`python -m constrained_zoo.training.sample_efficiency --protocol FILE --report-only`
writes `report.md`, `cells.csv` and `accuracy_vs_examples.png` (`protocol_plot`)
beside the protocol file. It reads the
test split only once the protocol is complete: until every (condition,
model, size) has its rate chosen on validation, with every seed, and no
edge left to extend, it prints what is missing and no accuracy at all.

Every difference is paired by seed: seed k of two models shares the
validation split, the nested training subset and the data order, and seed
k of the two conditions shares them too (the control only permutes the
positions). The interval is Student's t over the seeds' differences. The
tables themselves are `protocol_tables`.
"""

import contextlib
import csv
import io
import os
import sys

from constrained_zoo.atomic import write_text
from . import protocol as protocols, protocol_plot
from .paired import t_interval  # noqa: F401  (the report's interval, importable from here)
from .protocol_tables import (comparison_tables, convergence, examples_needed, group_of, said,  # noqa: F401
                              table_of_cells)
from .results import collect
from .sample_efficiency import choose_rate, folder, is_run_of, validation_by_rate


def cell_status(protocol, condition, name, size):
    """`(rate, edge, missing)`: the chosen rate (None while the grid is incomplete), whether it is an edge, what is missing."""
    model, overrides = protocol.zoo_model(name)
    by_rate = validation_by_rate(condition.out, model, size, protocol.seeds, protocol.selection, overrides)
    missing = [r for r in protocol.rates if r not in by_rate]
    if missing:
        return None, False, f"rates {missing}"
    rate = choose_rate(by_rate)
    beyond = protocols.next_rate(protocol.ladder, list(by_rate), rate)
    if beyond is not None:
        return None, True, f"the edge {rate:g} won: rate {beyond:g}"
    return rate, rate in (min(by_rate), max(by_rate)), ""


def runs_by_seed(protocol, condition, name, size, rate):
    """`{seed: results.json dict}` of the runs of `name` (a model or variant) at (size, rate), the protocol's seeds."""
    model, overrides = protocol.zoo_model(name)
    return {r["seed"]: r for r in collect(os.path.join(folder(condition.out, size, rate), "runs"))
            if is_run_of(r, model, overrides) and r["seed"] < protocol.seeds}


def gather(protocol):
    """`(cells, missing)`: `{(condition, name, size): cell}` once complete, else `({}, [what is missing])`."""
    cells, missing = {}, []
    for condition in protocol.conditions:
        for name in protocol.models:
            for size in protocol.sizes:
                rate, edge, lack = cell_status(protocol, condition, name, size)
                if rate is None:
                    missing.append(f"{condition.name}, {name}, n = {size}: {lack}")
                    continue
                runs = runs_by_seed(protocol, condition, name, size, rate)
                first = next(iter(runs.values()))
                cells[condition.name, name, size] = {
                    "condition": condition.name, "model": name, "group": group_of(first["family"]),
                    "size": size, "rate": rate, "edge": edge, "runs": runs,
                    "params": first.get("params"), "trainable_params": first["trainable_params"],
                }
    return (cells, []) if not missing else ({}, missing)


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
             f"constrained_zoo.training.sample_efficiency --protocol {protocol.path} --report-only`.", ""]
    lines += table_of_cells(protocol, cells) + comparison_tables(protocol, cells)
    lines += ["", "#### Convergence at the largest size", ""] + convergence(protocol, cells)
    if protocol.targets:
        lines += ["", "#### Examples needed", ""] + examples_needed(protocol, cells)
    return "\n".join(lines) + "\n"


def main(protocol):
    """Writes report.md, cells.csv and the figure beside the protocol once it is complete; otherwise says what is missing."""
    cells, missing = gather(protocol)
    if missing:
        print(f"{protocol.study}: the protocol is not complete, so no accuracy is shown; missing "
              f"({len(missing)}):\n  " + "\n  ".join(missing), file=sys.stderr)
        return 3
    here = os.path.dirname(protocol.path) or "."
    try:
        text = markdown(protocol, cells)
    except protocols.ProtocolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_text(os.path.join(here, "report.md"), text)
    write_text(os.path.join(here, "cells.csv"), cells_csv(cells))
    protocol_plot.plot(protocol, cells, os.path.join(here, "accuracy_vs_examples.png"))
    print(text, end="")
    return 0


def finished_runs(protocol):
    """How many runs of the protocol have finished (every condition, size and rate tried so far)."""
    return sum(1 for condition in protocol.conditions if os.path.isdir(condition.out)
               for root, _, files in os.walk(condition.out) if "results.json" in files)


def at_root(root, path, render):
    """`render(protocol)` of the protocol file `path`, read with the repository's `root` as the working directory
    (a protocol's folders are relative to it)."""
    with contextlib.chdir(root):
        return render(protocols.load(path))


def protocol_block(root, path):
    """The docs' `protocol PATH` block: `block` of the protocol file `path` under `root`."""
    return at_root(root, path, block)


def block(protocol):
    """The docs' block for a protocol: its report once complete; until then what is done, and no accuracy."""
    cells, missing = gather(protocol)
    if not missing:
        return markdown(protocol, cells)
    total = len(protocol.conditions) * len(protocol.models) * len(protocol.sizes)
    return (f"In progress: {total - len(missing)} of {total} cells (condition × model × size) have their rate "
            f"chosen with every seed; {finished_runs(protocol)} runs have finished. No accuracy is shown until "
            f"every cell is complete. Protocol: `{protocol.path}`.\n")


#: The generated-block kinds this module writes (`training.readme`): name -> (function, number of arguments).
BLOCKS = {"protocol": (protocol_block, 1)}

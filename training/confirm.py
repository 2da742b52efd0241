"""A pre-registered confirmation of frontier recipes: `python -m constrained_zoo.training.confirm`.

    python -m constrained_zoo.training.confirm --protocol results/frontier_confirmation/protocol.json --jobs 2
    python -m constrained_zoo.training.confirm --protocol results/frontier_confirmation/protocol.json --read-test

The protocol file (committed before any of its runs) names, per goal, one
model with its overrides, one recipe, the seeds, the target and the budget
in weights (every weight: Keras's `count_params`). The first command trains
exactly those runs into `GOAL/runs/` beside the file (a finished run is
skipped, an interrupted one resumes); a model over its budget is refused
before anything trains. The second reads the test split once: it refuses
until every named run has finished, then writes `results.md` beside the
protocol with each goal's mean, std and t-interval over its seeds, met or
missed. No other run is read, so nothing outside the protocol can stand in.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from constrained_zoo import arguments

from constrained_zoo.atomic import write_text
from constrained_zoo.markdown import markdown_table

from . import settings
from .run import rundir
from .sweep import run_name
from .sweeps.results import collect, comparable, weights_of

GOAL_FIELDS = {"name", "dataset", "budget", "target", "min_seeds", "model", "model_args", "seeds", "recipe", "found_by"}


class ConfirmationError(ValueError):
    """A confirmation protocol that cannot be followed, or read before its end."""


def load(path):
    """The protocol's dict, its goals checked: fields, seeds, recipe settings, every model within its budget."""
    try:
        with open(path, encoding="utf-8") as f:
            protocol = json.load(f)
    except (OSError, json.JSONDecodeError) as error:
        raise ConfirmationError(f"cannot read the protocol {path!r}: {error}") from None
    recipe_names = {s.name for s in settings.SETTINGS if s.kind == "recipe"}
    for goal in protocol.get("goals", []):
        name = goal.get("name")
        if set(goal) != GOAL_FIELDS:
            raise ConfirmationError(f"{path}: goal {name!r} has fields {sorted(goal)}; expected {sorted(GOAL_FIELDS)}.")
        if len(goal["seeds"]) < goal["min_seeds"]:
            raise ConfirmationError(f"{path}: goal {name!r} names {len(goal['seeds'])} seeds; its goal asks for "
                                    f"{goal['min_seeds']}.")
        unknown = sorted(set(goal["recipe"]) - recipe_names)
        if unknown:
            raise ConfirmationError(f"{path}: goal {name!r}: {unknown} are not recipe settings.")
        weights = weights_of(goal["model"], goal["model_args"])
        if weights > goal["budget"]:
            raise ConfirmationError(f"{path}: goal {name!r}: {goal['model']} {goal['model_args']} holds {weights:,} "
                                    f"weights, over its budget of {goal['budget']:,}.")
    if not protocol.get("goals"):
        raise ConfirmationError(f"{path}: no goals.")
    return protocol


def run_dir(path, goal, seed):
    """Where one named run trains: `GOAL/runs/MODEL[-SLUG]/seedS` beside the protocol."""
    return os.path.join(os.path.dirname(path), goal["name"], "runs", run_name(goal["model"], goal["model_args"]),
                        f"seed{seed}")


def command(path, goal, seed, execution=None):
    """The training command of one named run (`--resume` when it has a checkpoint).

    `execution`: execution settings (speed only, the same numbers), e.g.
    `{"steps_per_execution": 40, "checkpoint_seconds": 60}`.
    """
    by_name = {s.name: s for s in settings.SETTINGS}
    recipe = {"dataset": goal["dataset"], **goal["recipe"]}
    if recipe.get("teacher"):
        recipe["teacher"] = recipe["teacher"].replace("{seed}", str(seed))
    words = [sys.executable, "-m", "constrained_zoo.training.train", "--model", goal["model"], "--seed", str(seed)]
    words += by_name["model_args"].words(goal["model_args"])
    for name, value in recipe.items():
        words += by_name[name].words(value)
    out = run_dir(path, goal, seed)
    for name, value in (execution or {}).items():
        words += by_name[name].words(value)
    words += ["--out", out]
    return words + (["--resume"] if os.path.isdir(os.path.join(out, "checkpoints")) else [])


def finished(path, goal, seed):
    """The named run's results.json dict, or None while it has not finished."""
    return rundir.read_json(os.path.join(run_dir(path, goal, seed), rundir.RESULTS))


def train(path, protocol, jobs, execution=None, only=None):
    """Trains every named run not yet finished, goal after goal (a goal's teachers come before it). Exit status.

    `only` (goal names) trains those goals alone; a goal distilled from another needs that one finished first.
    """
    def one(goal, seed):
        if finished(path, goal, seed):
            return 0
        words = command(path, goal, seed, execution)
        print(" ".join(words[1:]), flush=True)
        os.makedirs(run_dir(path, goal, seed), exist_ok=True)
        with open(os.path.join(run_dir(path, goal, seed), "confirm.log"), "a", encoding="utf-8") as log:
            return subprocess.run(words, stdout=log, stderr=subprocess.STDOUT, check=False).returncode

    names = [g["name"] for g in protocol["goals"]]
    unknown = sorted(set(only or ()) - set(names))
    if unknown:
        raise ConfirmationError(f"--goal: {unknown[0]!r} is not a goal of this protocol; its goals are {', '.join(names)}.")
    for goal in (g for g in protocol["goals"] if not only or g["name"] in only):
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            codes = list(pool.map(lambda seed, g=goal: one(g, seed), goal["seeds"]))
        if any(codes):
            print(f"error: goal {goal['name']!r}: a run failed (exit {codes}); see its confirm.log", file=sys.stderr)
            return 1
    return 0


def goal_row(path, goal, level):
    """The cells of one goal's row of the results table: its seeds' test accuracy, interval, met or not."""
    from .sweeps.paired import t_interval  # pylint: disable=import-outside-toplevel

    runs = [finished(path, goal, s) for s in goal["seeds"]]
    tests = [r["test_accuracy"] for r in runs]
    mean, low, high = t_interval(tests, level)
    weights = weights_of(goal["model"], goal["model_args"])
    met = comparable(mean) >= goal["target"] and weights <= goal["budget"] and len(tests) >= goal["min_seeds"]
    overrides = ", ".join(f"{k}={v}" for k, v in goal["model_args"].items())
    return [f"≥ {goal['target']:g} with ≤ {goal['budget']:,} weights",
            goal["model"] + (f" ({overrides})" if overrides else ""),
            f"{weights:,} ({runs[0]['trainable_params']:,})", ", ".join(map(str, goal["seeds"])),
            f"{mean:.4f} ± {statistics.stdev(tests):.4f}", f"[{low:.4f}, {high:.4f}]", "yes" if met else "no",
            goal["found_by"]]


def read_test(path, protocol):
    """The results table, test read for the named runs only; `ConfirmationError` until every one has finished."""
    missing = [f"{g['name']} seed {s}" for g in protocol["goals"] for s in g["seeds"] if not finished(path, g, s)]
    if missing:
        raise ConfirmationError(f"{len(missing)} named run(s) have not finished, so test is not read yet: "
                                f"{', '.join(missing)}.")
    level = protocol["interval"]
    header = ["goal", "model", "weights (trainable)", "seeds", "test accuracy", f"{level:.0%} interval", "met",
              "found before by"]
    rows = [goal_row(path, goal, level) for goal in protocol["goals"]]
    lines = [markdown_table(header, rows, right=(2, 4, 5)), "",
             f"Test accuracy of each goal's last-epoch models, mean ± std over its seeds; the interval is Student's "
             f"t. Written by `python -m constrained_zoo.training.confirm --protocol {path} --read-test`."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m constrained_zoo.training.confirm", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--protocol", required=True, help="the committed confirmation protocol (JSON)")
    parser.add_argument("--jobs", type=arguments.positive_int, default=1, help="a goal's seeds trained at once")
    settings.add_passed_on_arguments(parser)
    parser.add_argument("--goal", action="append", metavar="NAME",
                        help="train only this goal (repeatable); default: every goal, in the protocol's order")
    parser.add_argument("--read-test", action="store_true", help="train nothing; read test once every run finished")
    args = parser.parse_args(argv)
    try:
        protocol = load(args.protocol)
        if not args.read_test:
            return train(args.protocol, protocol, args.jobs, settings.passed_on(args), args.goal)
        text = read_test(args.protocol, protocol)
    except ConfirmationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_text(os.path.join(os.path.dirname(args.protocol), "results.md"), text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

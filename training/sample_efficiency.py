"""What each constraint buys in data: `python -m constrained_zoo.training.sample_efficiency`.

    python -m constrained_zoo.training.sample_efficiency --dataset mnist1d --budget 10000 \\
        --models mlp_1d_small,lc1d_small,lrlc1d_r4_10k,sharedconv1d_base,cnn1d_base \\
        --sizes 500,1000,2000,3600 --steps 2160 --batch-size 100 --rates 0.003,0.01 --seeds 3 \\
        --out results/sample_efficiency/mnist1d_10k

trains each model, scaled to the budget, on growing subsets of the
training split for the same number of optimizer steps, its learning rate
chosen on validation per size; then writes `OUT/sample_efficiency.md`,
`.csv` and `accuracy_vs_examples.png` from every finished run in OUT (all
its sizes and rates, whichever command trained them). The protocol is
`training/sweeps/sample_efficiency.py`'s docstring. Every run is a
`python -m constrained_zoo.training.sweep` run in `OUT/nSIZE/lrRATE/`: an interrupted study
resumes where it stopped when the same command runs again.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import csv
import functools
import io
import json
import os
import sys

from constrained_zoo import arguments

from . import settings, sweep
from constrained_zoo.atomic import atomic_path, write_text
from .sweeps import protocol as protocols
from .sweeps import sample_efficiency as study
from .sweeps import side_by_side
from .sweeps.results import weights_of


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.sample_efficiency",
        description="Test accuracy against the number of training examples, each model at a parameter budget.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", default="mnist1d")
    parser.add_argument("--protocol", default=None,
                        help="a committed protocol file (training/sweeps/protocol.py): every setting of the study "
                             "comes from it, and its flags below are refused")
    parser.add_argument("--condition", default=None,
                        help="with --protocol: run or report only this condition (default: all, interleaved)")
    settings.add_passed_on_arguments(parser)  # with --protocol
    parser.add_argument("--models", default=None, help="comma-separated model names, one per family")
    parser.add_argument("--budget", type=arguments.positive_int, default=None,
                        help="scale each model's width to this many weights, every one counted (Keras's count_params; "
                             "default: the models as they are)")
    parser.add_argument("--sizes", type=arguments.budgets, default=None, help="training-set sizes, e.g. 500,1000")
    parser.add_argument("--steps", type=arguments.positive_int, default=None, help="optimizer steps at every size")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=128)
    parser.add_argument("--rates", type=arguments.numbers, default="0.001,0.003",
                        help="the learning-rate grid, comma-separated")
    parser.add_argument("--seeds", type=arguments.positive_int, default=3, help="seeds at the chosen rate")
    parser.add_argument("--targets", type=arguments.numbers, default="0.6,0.7,0.8,0.9",
                        help="accuracies for 'examples needed'")
    parser.add_argument("--pixel-shuffle", action="store_true", help="the control: one fixed permutation of the pixels")
    parser.add_argument("--jobs", type=arguments.positive_int, default=1, help="runs trained at once")
    parser.add_argument("--out", default=None)
    parser.add_argument("--report-only", action="store_true", help="train nothing: tables and plot from the runs there")
    return parser


def widths(args):
    """`{model: width or None}`: each model's width at the budget (None: as it is)."""
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    found = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        entry = models.model_entry(name)
        found[name] = (study.match_width(name, args.budget, models.count_params)[0]
                       if args.budget and "width" in entry.options else None)
    return found


def _sweep(args, model, width, size, rate, seeds):
    argv = ["--dataset", args.dataset, "--models", model, "--seeds", seeds,
            "--epochs", study.epochs_for(size, args.steps, args.batch_size), "--batch-size", args.batch_size,
            "--max-train-examples", size, "--learning-rate", rate, "--jobs", args.jobs,
            "--out", study.folder(args.out, size, rate)]
    argv += ["--model-arg", f"width={width}"] if width not in (None, 1.0) else []
    argv += ["--pixel-shuffle"] if args.pixel_shuffle else []
    return sweep.main([str(a) for a in argv])


def train(args, rates):
    """Phase 1: every rate, seed 0; phase 2: each (model, size)'s chosen rate, every seed. Exit status."""
    scaled = widths(args)
    for size in args.sizes:
        for rate in rates:
            for model, width in scaled.items():
                code = _sweep(args, model, width, size, rate, 1)
                if code not in (0, 1):  # 1: a failed run, reported; anything else: stopped or refused
                    return code
    for (model, size), rate in study.choose_rates(args.out, args.sizes, rates).items():
        code = _sweep(args, model, scaled[model], size, rate, args.seeds)
        if code not in (0, 1):
            return code
    return 0


def _protocol_sweep_argv(protocol, condition, name, width, size, rate, execution):
    """The sweep arguments (all but `--jobs`) of one rate of one chain."""
    model, overrides = protocol.zoo_model(name)
    argv = ["--dataset", protocol.dataset, "--models", model, "--seeds", protocol.seeds,
            "--epochs", protocol.epochs_for(size), "--batch-size", protocol.batch_size,
            "--lr-schedule", protocol.lr_schedule, "--max-train-examples", size, "--learning-rate", rate,
            "--out", study.folder(condition.out, size, rate)]
    argv += [w for key, value in (execution or {}).items() for w in settings.by_name(key).words(value)]
    argv += ["--model-arg", f"width={width}"] if width not in (None, 1.0) else []
    argv += [w for key, value in sorted(overrides.items())
             for w in ("--model-arg", f"{key}={value if isinstance(value, str) else json.dumps(value)}")]
    argv += ["--pixel-shuffle"] if condition.pixel_shuffle else []
    argv += ["--validation-points", protocol.validation_points] if protocol.validation_points else []
    return [str(a) for a in argv]


def _train_chain(protocol, size, condition, name, width, execution, run_sweep):
    """One chain of the study: every seed at every rate of `rates`, then, while an edge of the rates tried
    has the best mean validation, the next rung of `ladder` beyond it (`protocols.next_rate`). Exit status.

    `run_sweep(argv)` runs one sweep and returns its exit status.
    """
    zoo, overrides = protocol.zoo_model(name)

    def validated():  # {rate: mean validation over the seeds} of the rates whose every seed has finished
        return study.validation_by_rate(condition.out, zoo, size, protocol.seeds, protocol.selection, overrides)

    def one(rate):
        return run_sweep(_protocol_sweep_argv(protocol, condition, name, width, size, rate, execution))

    for rate in protocol.rates:
        code = one(rate)
        if code not in (0, 1):  # 1: a failed run, reported; anything else: stopped or refused
            return code
    while True:
        by_rate = validated()
        tried = [r for r in by_rate if r in protocol.ladder]
        rate = protocols.next_rate(protocol.ladder, tried, study.choose_rate(by_rate)) if tried else None
        if rate is None or rate in by_rate:
            return 0
        code = one(rate)
        if code not in (0, 1):
            return code
        if rate not in validated():
            return 0  # its runs failed: reported by the sweep; the choice stays among the rates that ran


def protocol_widths(protocol):
    """`{name: width or None}`: each of the protocol's models (variants too) at the width nearest its budget."""
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    found = {}
    for name in protocol.models:
        model, overrides = protocol.zoo_model(name)
        if not protocol.budget or "width" not in models.model_entry(model).options:
            found[name] = None
            continue
        found[name] = study.match_width(model, protocol.budget, _counter(overrides))[0]
    return found


def _counter(overrides):
    """`count(model, **scaled)`: every weight, as the budget counts them, of the model with `overrides`."""
    def count(model, **scaled):
        return weights_of(model, {**overrides, **scaled})
    return count


def train_protocol(protocol, conditions, jobs, execution=None):
    """Every run the protocol asks for, size by size in its order, the conditions side by side. Exit status.

    `execution`: execution settings for every run (speed only, the same
    numbers), e.g. `{"steps_per_execution": 40, "checkpoint_seconds": 60}`.

    The study is one chain per (size, condition, model) (`_train_chain`):
    every seed at every rate of `rates`, then the rungs of `ladder` that an
    edge that wins adds. With `jobs` > 1 and several chains, up to `jobs`
    chains run side by side, each sweep in its own process
    (`sweeps.side_by_side`), so that no core waits for a sweep's last seeds;
    otherwise one sweep at a time with `jobs` jobs. A finished run is
    skipped, so the same command resumes an interrupted study.
    """
    scaled = protocol_widths(protocol)
    chains = [functools.partial(_train_chain, protocol, size, condition, name, width, execution)
              for size in protocol.sizes for condition in conditions for name, width in scaled.items()]
    if jobs > 1 and len(chains) > 1:
        return side_by_side.run_chains(chains, jobs, sweep.visible_gpus())
    for chain in chains:
        code = chain(lambda argv: sweep.main([*argv, "--jobs", str(jobs)]))
        if code not in (0, 1):
            return code
    return 0


def to_csv(table):
    buffer = io.StringIO()
    columns = ("model", "label", "family", "params", "trainable_params", "size", "rate", "test", "std", "low", "high",
               "seeds", "validation")
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def plot(table, path, title):
    """Accuracy against examples (log axis): one line per model, its seeds' range as a band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # pylint: disable=import-outside-toplevel
    from matplotlib.figure import Figure  # pylint: disable=import-outside-toplevel

    from .sweeps.plots import FAMILY_COLORS  # pylint: disable=import-outside-toplevel

    fig = Figure(figsize=(8, 5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for model in dict.fromkeys(r["model"] for r in table):
        mine = [r for r in table if r["model"] == model]
        color = FAMILY_COLORS.get(mine[0]["family"], "black")
        sizes = [r["size"] for r in mine]
        ax.fill_between(sizes, [r["low"] for r in mine], [r["high"] for r in mine], color=color, alpha=0.15,
                        linewidth=0)
        ax.plot(sizes, [r["test"] for r in mine], marker="o", color=color,
                label=f"{mine[0]['label']}: {mine[0]['family']}, {mine[0]['params']:,}")
    ax.set_xscale("log")
    sizes = sorted({r["size"] for r in table})
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.xaxis.set_minor_formatter("")
    ax.set_xlabel("training examples")
    ax.set_ylabel("test accuracy (mean over seeds; band: lowest to highest seed)")
    ax.set_title(title, fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)


#: The flags a protocol file sets; given beside --protocol, they are refused.
PROTOCOL_SETS = ("models", "budget", "sizes", "steps", "batch_size", "rates", "seeds", "targets", "pixel_shuffle",
                 "out", "dataset")


def main_protocol(args, parser):
    """`--protocol FILE`: the study its file fixes, trained (unless --report-only), then reported."""
    defaults = vars(parser.parse_args([]))  # every flag at its default, parsed as given ones are
    given = [name for name in PROTOCOL_SETS if getattr(args, name) != defaults[name]]
    if given:
        parser.error(f"--protocol sets {', '.join('--' + g.replace('_', '-') for g in given)}: "
                     f"change the protocol file (before its first run), not the command")
    try:
        protocol = protocols.load(args.protocol)
        conditions = [protocol.condition(args.condition)] if args.condition else list(protocol.conditions)
    except protocols.ProtocolError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.report_only:
        code = train_protocol(protocol, conditions, args.jobs, settings.passed_on(args))
        if code not in (0, 1):
            return code
    from .sweeps import protocol_report  # pylint: disable=import-outside-toplevel

    return protocol_report.main(protocol)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    if args.protocol:
        return main_protocol(args, parser)
    missing = [flag for flag, value in (("--models", args.models), ("--sizes", args.sizes), ("--steps", args.steps),
                                        ("--out", args.out)) if value is None]
    if missing:
        parser.error(f"without --protocol, {', '.join(missing)} are required")
    rates, targets = args.rates, args.targets
    if not args.report_only:
        code = train(args, rates)
        if code not in (0, 1):
            return code
    table, text = study.report(args.out, targets) if os.path.isdir(args.out) else ([], "")
    if not table:
        print(f"error: no finished runs in {args.out}", file=sys.stderr)
        return 2
    write_text(os.path.join(args.out, "sample_efficiency.md"), text)
    write_text(os.path.join(args.out, "sample_efficiency.csv"), to_csv(table))
    control = " (pixel-shuffled)" if args.pixel_shuffle else ""
    plot(table, os.path.join(args.out, "accuracy_vs_examples.png"),
         f"{args.dataset}{control}: test accuracy against training examples\n"
         f"{args.steps:,} optimizer steps at every size")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

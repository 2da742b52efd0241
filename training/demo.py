"""`make demo`: §7.1's story on Fashion-MNIST in a few minutes, and the published models re-checked.

    python -m constrained_zoo.training.demo [--out runs/demo] [--epochs 5] [--learning-rate 0.003]
    python -m constrained_zoo.training.demo --no-train            # part 2 only: the shipped weights
    python -m constrained_zoo.training.demo --published none      # part 1 only: the short run

Part 1 trains one model of each family at about 10k weights (`DEMO_MODELS`:
all ≤ 15,000) on all 54,000 training images for a few epochs
(`python -m constrained_zoo.training.sweep`, resumable in OUT), prints each family's
validation and test accuracy, ranks the families by VALIDATION accuracy
(the test column is shown, never used to choose) and says whether the ranking
is the chapter's: convolution > locally connected > fully connected, each
group counted by its best family (convolution: SharedConv, MultiChannelConv;
fully connected: MLP, FullyConnected2D). It copies the SavedModel of the model
with the best validation accuracy to OUT/best_saved_model.

Part 2 loads the shipped Fashion-MNIST weights of every published model
(`models.create_model(name, weights="fashion_mnist")`), re-computes each test
accuracy (`training.evaluate`, deterministic; any count that differs from the
manifest's is a MISMATCH and the exit status is 1), prints them next to the
short run's figures with the command that trained each, then ranks each family's
best published model by the manifest's validation accuracy within budgets of
weights (`--budgets`; every weight counted, the trainable ones beside it).

The short run's recipe was chosen on the validation split only. The five
models trained with Adam, a cosine schedule and all 54,000 training images for
3 or 5 epochs at learning rate 1e-3 or 3e-3 (`python -m constrained_zoo.training.sweep
--models mlp_linear,fc2d_tiny,lc_tiny,sharedconv_base,cnn_small --epochs E
--learning-rate LR --lr-schedule cosine --out OUT`, one folder per pair),
mean validation accuracy of the five:

    epochs  learning rate  mean validation
    3       1e-3           0.8222
    3       3e-3           0.8557
    5       1e-3           0.8396
    5       3e-3           0.8666   <- the defaults (the best of each model too)

More epochs would make the demo longer than a few minutes on two CPU
cores. Test accuracies were not looked at to choose.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import csv
import fnmatch
import os
import shutil
import sys
import time

from constrained_zoo import arguments, markdown
from constrained_zoo.atomic import atomic_path, write_json, write_text
from constrained_zoo.models.architecture import count_text
from . import sweep
from .sweeps.chapter import chapter_check, family_bests, verdict_line
from .sweeps.results import FAMILY_ORDER, collect

DATASET = "fashion_mnist"
#: One model of each family but the low-rank one, each with at most 15,000 weights.
DEMO_MODELS = "mlp_linear,fc2d_tiny,lc_tiny,sharedconv_base,cnn_small"
DEMO_EPOCHS = 5
DEMO_LEARNING_RATE = 0.003
DEMO_BUDGETS = "15000,60000"
EVALUATE = "python -m constrained_zoo.training.evaluate --model {model} --weights " + DATASET


def _acc(value):
    return "—" if value is None else f"{value:.4f}"


# ----------------------------------------------------------------------------- part 1: the short run
def short_run_rows(out):
    """The short run's finished runs as rows: model, family, params, trainable_params, validation, test.

    "validation" is the run's best validation accuracy or, for runs without a validation set
    (--validation-fraction 0), its final training accuracy ("chosen_by" says which); never test.
    """
    results = collect(os.path.join(out, "runs"))
    with_validation = bool(results) and all(r.get("best_val_accuracy") is not None for r in results)
    rows = []
    for r in results:
        if with_validation:
            value = r["best_val_accuracy"]
        else:
            value = _final_train_accuracy(os.path.join(out, "runs", r["model"], f"seed{r['seed']}"))
        rows.append({"model": r["model"], "family": r["family"], "params": r["params"],
                     "trainable_params": r["trainable_params"], "validation": value,
                     "best_val_accuracy": r.get("best_val_accuracy"), "test": r["test_accuracy"], "seed": r["seed"]})
    chosen_by = "best validation accuracy" if with_validation else "final training accuracy (no validation set)"
    return rows, chosen_by


def _final_train_accuracy(run_dir):
    """The last epoch's training accuracy from the run's history.csv (0 if unreadable)."""
    try:
        with open(os.path.join(run_dir, "history.csv"), encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        return float(rows[-1]["accuracy"])
    except (OSError, ValueError, KeyError, IndexError):
        return 0.0


def report_short_run(rows, chosen_by, args):
    """Part 1's table and verdict as Markdown lines."""
    column = "validation" if chosen_by.startswith("best validation") else "final train (no validation)"
    bests = family_bests(rows, "validation")
    table = [[i, r["family"], r["model"], count_text(r), _acc(r["validation"]), _acc(r["test"])]
             for i, r in enumerate(bests, start=1)]
    groups, verdict = chapter_check(rows, "validation")
    lines = [
        f"## 1. A short run: {_images(args.max_train_examples)}, {args.epochs} epoch(s), "
        f"Adam {args.learning_rate:g} {args.lr_schedule}",
        "",
        f"Each family's best model, ranked by {chosen_by}; the test column is shown, never used to choose.",
        "",
        markdown.markdown_table(["rank", "family", "model", "weights (trainable)", column, "test"], table, (0, 3, 4, 5)),
        "",
        verdict_line(groups, verdict, "validation", chosen_by),
    ]
    if verdict is False:
        lines.append(
            f"The short run does not show the chapter's order: after {args.epochs} epoch(s) a model's accuracy "
            "says how fast its family learns as much as how far it can go. Part 2 below ranks the published "
            "models, trained to the end of their recipe (the manifest's commands)."
        )
    return lines


def _images(max_train_examples):
    return "all training images" if max_train_examples is None else f"{max_train_examples:,} training images"


def copy_best(rows, chosen_by, out):
    """Copies the SavedModel of the best row by validation (or training) accuracy to OUT/best_saved_model."""
    best = max(rows, key=lambda r: (r["validation"], -r["params"]))
    run_dir = os.path.join(out, "runs", best["model"], f"seed{best['seed']}")
    target = os.path.join(out, "best_saved_model")
    with atomic_path(target) as tmp:
        shutil.copytree(os.path.join(run_dir, "saved_model"), tmp)
    key = "best_val_accuracy" if chosen_by.startswith("best validation") else "final_train_accuracy"
    write_json(os.path.join(out, "best_model.json"), {
        "model": best["model"], "chosen_by": chosen_by, key: best["validation"],
        "best_val_accuracy": best["validation"] if key == "best_val_accuracy" else None,
        "test_accuracy": best["test"],
    })
    return best, run_dir, target


# ----------------------------------------------------------------------------- part 2: the shipped weights
def select_published(entries, patterns):
    """The manifest entries whose model matches one of the comma-separated wildcards `patterns`."""
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    return [e for e in entries if any(fnmatch.fnmatchcase(e["model"], p) for p in wanted)]


def recheck(entries, weights_dir=None, data_dir=None, log=print):
    """Re-computes each entry's test accuracy from its shipped weights.

    Returns:
        `{model: (correct, total) or error message}`.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from .evaluate import evaluate_published  # pylint: disable=import-outside-toplevel

    tf.config.experimental.enable_op_determinism()  # as python -m constrained_zoo.training.evaluate: the manifest's count exactly
    found = {}
    for entry in entries:
        start = time.perf_counter()
        try:
            correct, total, _ = evaluate_published(entry["model"], DATASET, weights_dir, data_dir)
            found[entry["model"]] = (correct, total)
            status = "match" if (correct, total) == (entry["test_correct"], entry["num_test"]) else "MISMATCH"
            log(f"  {entry['model']:<16} {correct / total:.4f} ({correct:,}/{total:,}), the manifest "
                f"{entry['test_accuracy']:.4f}: {status} ({time.perf_counter() - start:.1f} s)")
        except ValueError as error:  # models.WeightsError: named, e.g. a corrupted file
            found[entry["model"]] = f"{error}"
            log(f"  {entry['model']:<16} ERROR: {error}")
    return found


def published_rows(entries, recomputed):
    """One row per manifest entry: the manifest's figures, the re-computed test accuracy, whether they match."""
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    rows = []
    for entry in entries:
        got = recomputed.get(entry["model"])
        ok = isinstance(got, tuple) and got == (entry["test_correct"], entry["num_test"])
        rows.append({
            "model": entry["model"], "family": models.model_entry(entry["model"]).family, "params": entry["params"],
            "trainable_params": entry["trainable_params"], "validation": entry["validation_accuracy"],
            "test": entry["test_accuracy"], "recomputed": got[0] / got[1] if isinstance(got, tuple) else None,
            "match": ok, "error": None if isinstance(got, tuple) else (got or "not re-computed"),
            "command": entry["command"], "commit": entry.get("commit") or "unknown",
        })
    family_rank = {f: i for i, f in enumerate(FAMILY_ORDER)}
    rows.sort(key=lambda r: (family_rank.get(r["family"], 99), r["params"], r["model"]))
    return rows


def report_published(rows, demo_rows, budgets):
    """Part 2's tables, commands and rankings as Markdown lines."""
    demo = {r["model"]: r for r in demo_rows}
    table = []
    for r in rows:
        status = "match" if r["match"] else ("MISMATCH" if r["recomputed"] is not None else "ERROR")
        mine = demo.get(r["model"])
        table.append([r["model"], r["family"], count_text(r), _acc(r["validation"]), _acc(r["test"]),
                      _acc(r["recomputed"]), status, _acc(mine and mine.get("best_val_accuracy")), _acc(mine and mine["test"])])
    lines = [
        f"## 2. The published models: shipped weights ({DATASET}), test accuracy re-computed",
        "",
        "Validation and test (manifest): the published run's (20 epochs, all training images); re-computed: "
        "this machine, from the shipped weights; demo: part 1's short run of the same model.",
        "",
        markdown.markdown_table(["model", "family", "weights (trainable)", "validation", "test (manifest)",
                                 "test (re-computed)", "check", "demo validation", "demo test"], table, (2, 3, 4, 5, 7, 8)),
        "",
        f"Reproduce a row: train it with its command below, or re-check the shipped weights with "
        f"`{EVALUATE.format(model='MODEL')}`.",
        "",
    ]
    lines += [f"    {r['model']}: {r['command']}  (commit {r['commit'][:7]})" for r in rows]
    for budget in budgets:
        within = [r for r in rows if r["params"] <= budget]
        bests = family_bests(within, "validation")
        groups, verdict = chapter_check(within, "validation")
        lines += [
            "",
            f"Each family's best published model with ≤ {budget:,} weights, chosen by the manifest's "
            f"validation accuracy (test shown, never used to choose):",
            "",
            markdown.markdown_table(["rank", "family", "model", "weights (trainable)", "validation", "test"],
                                    [[i, r["family"], r["model"], count_text(r), _acc(r["validation"]),
                                      _acc(r["test"])] for i, r in enumerate(bests, start=1)], right=(0, 3, 4, 5)),
            "",
            verdict_line(groups, verdict, "validation", "validation accuracy"),
        ]
    return lines


# ----------------------------------------------------------------------------- the command line
def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.demo",
        description="§7.1 on Fashion-MNIST: a short run of one model of five families at about 10k parameters, "
                    "ranked by validation accuracy, then the published models' shipped weights re-checked.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", default=os.path.join("runs", "demo"), help="the short run's folder (resumable)")
    parser.add_argument("--models", default=DEMO_MODELS, help="the short run's models (wildcards)")
    parser.add_argument("--epochs", type=arguments.positive_int, default=DEMO_EPOCHS)
    parser.add_argument("--learning-rate", type=arguments.positive_float, default=DEMO_LEARNING_RATE)
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="cosine")
    parser.add_argument("--max-train-examples", type=arguments.positive_int, default=None,
                        help="default: all 54,000 (the rest of the 60,000 is the validation split)")
    parser.add_argument("--validation-fraction", type=arguments.fraction, default=0.1,
                        help="held out from train to rank and choose; 0: rank by training accuracy")
    parser.add_argument("--no-train", dest="train", action="store_false", help="skip part 1 (the short run)")
    parser.add_argument("--published", default="*",
                        help="part 2's published models (wildcards over the manifest); 'none' skips part 2")
    parser.add_argument("--budgets", type=arguments.budgets, default=arguments.budgets(DEMO_BUDGETS),
                        help="part 2 ranks each family's best published model within each budget")
    parser.add_argument("--weights-dir", default=None,
                        help="the weights root (default: $ZOO_WEIGHTS_DIR, else the package's models/weights)")
    parser.add_argument("--data-dir", default=None, help="where the data files are (see training.train)")
    return parser


def short_run(args):
    """Part 1: the sweep of one model of each of five families, its tables printed; `(exit status, lines, rows)`."""
    code = sweep.main([
        "--dataset", DATASET, "--models", args.models, "--epochs", args.epochs,
        "--learning-rate", args.learning_rate, "--lr-schedule", args.lr_schedule,
        *(["--max-train-examples", args.max_train_examples] if args.max_train_examples else []),
        "--validation-fraction", args.validation_fraction, "--out", args.out,
        *(["--data-dir", args.data_dir] if args.data_dir else []),
        "--title", f"Fashion-MNIST demo: {_images(args.max_train_examples)}, {args.epochs} epochs, "
                   f"Adam {args.learning_rate:g} {args.lr_schedule}",
    ])
    demo_rows, chosen_by = short_run_rows(args.out)
    if not demo_rows or code > 128:  # 128 + a signal: stopped
        return code, [], []
    lines = report_short_run(demo_rows, chosen_by, args)
    print("\n" + "\n".join(lines))
    best, run_dir, target = copy_best(demo_rows, chosen_by, args.out)
    print(f"\nbest model by {chosen_by}: {best['model']} ({best['validation']:.4f}, test {best['test']:.4f})")
    print(f"  table:       {args.out}/results.md and results.csv")
    print(f"  plot:        {args.out}/accuracy_vs_params.png")
    print(f"  SavedModel:  {target}/  (serve it with tf.saved_model.load; "
          f"evaluate: python -m constrained_zoo.training.evaluate {run_dir})")
    print(f"  runs:        {args.out}/runs/MODEL/seed0/ (config, history, TensorBoard, model.keras)")
    return code, lines, demo_rows


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    if not args.train and args.published.strip().lower() == "none":
        parser.error("--no-train with --published none leaves nothing to do")
    start = time.perf_counter()
    entries = []
    if args.published.strip().lower() != "none":
        from constrained_zoo import models  # pylint: disable=import-outside-toplevel

        everything = models.published_weights(DATASET, args.weights_dir)
        entries = select_published(everything, args.published)
        if everything and not entries:
            print(f"error: --published {args.published!r} matches no published {DATASET} model; published: "
                  f"{', '.join(e['model'] for e in everything)} ('none' skips part 2).", file=sys.stderr)
            return 2
    code, lines, demo_rows = 0, [], []
    if args.train:
        code, lines, demo_rows = short_run(args)
        if not demo_rows or code > 128:  # 128 + a signal: stopped, nothing more to do
            return code or 1
    bad = []
    if entries:
        print(f"\nre-computing the test accuracy of {len(entries)} published model(s) from their shipped weights:")
        rows = published_rows(entries, recheck(entries, args.weights_dir, args.data_dir))
        part2 = report_published(rows, demo_rows, args.budgets)
        print("\n" + "\n".join(part2))
        lines += [""] + part2
        bad = [r for r in rows if not r["match"]]
        for r in bad:
            what = (f"re-computed {r['recomputed']:.4f}, the manifest says {r['test']:.4f}"
                    if r["recomputed"] is not None else r["error"])
            print(f"MISMATCH: {r['model']}: {what}; re-check: {EVALUATE.format(model=r['model'])}", file=sys.stderr)
        if not bad:
            print(f"\nall {len(rows)} re-computed test accuracies equal the manifest's.")
    elif args.published.strip().lower() != "none":
        print(f"\nno published {DATASET} weights in {args.weights_dir or 'the manifest'}: part 2 skipped.")
    if args.train and lines:
        write_text(os.path.join(args.out, "demo.md"), "\n".join(lines) + "\n")
        print(f"these tables: {args.out}/demo.md")
    print(f"demo finished in {time.perf_counter() - start:.0f} s")
    if bad:
        print(f"error: {len(bad)} published model(s) do not reproduce their manifest's test accuracy: "
              f"{', '.join(r['model'] for r in bad)}.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())

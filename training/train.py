"""Train one zoo model on one dataset, resumably, and export it for serving.

    python -m training.train --model lenet5 --dataset fashion_mnist --epochs 10 --out runs/lenet5
    python -m training.train --model lenet5 --dataset fashion_mnist --epochs 10 --out runs/lenet5 --resume
    python -m training.evaluate runs/lenet5

The run directory receives `config.json` (every setting, library versions),
`checkpoints/` (one complete checkpoint per epoch, written atomically),
`history.csv`, `tensorboard/`, and at the end `model.keras`, `saved_model/`
(`model.export()`, a `serve` signature) and `results.json`. Files others read
are written under a temporary name and renamed. A run killed at any point,
SIGKILL included, continues from its last completed epoch with `--resume`;
with the same seed it ends where an uninterrupted run ends (the data order
and augmentation of every epoch are functions of (seed, epoch) alone).

Scaling out: `--strategy mirrored` uses every local GPU (`MirroredStrategy`);
`--strategy multiworker` runs the same command on each machine with its own
`TF_CONFIG` (`MultiWorkerMirroredStrategy`); see `training/distribute.py`.
"""

import argparse
import csv
import io
import json
import math
import os
import platform
import shutil
import sys

from training import distribute

DEFAULT_OUT = os.path.join("runs", "{model}-{dataset}-seed{seed}")
# Settings a resumed run must share with the run it continues.
RESUME_KEYS = (
    "model", "dataset", "batch_size", "learning_rate", "seed", "max_train_examples",
    "validation_fraction", "augment", "pixel_shuffle", "shift", "mixed_precision", "lr_schedule",
)
# What a config written before a setting existed meant by it.
RESUME_DEFAULTS = {"lr_schedule": "constant"}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train a model of the zoo on a dataset, with checkpoints, resume and SavedModel export.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Example: python -m training.train --model lenet5 --dataset fashion_mnist --epochs 10",
    )
    parser.add_argument("--model", required=True, help="a name from models.list_models()")
    parser.add_argument("--dataset", default="fashion_mnist", help="fashion_mnist, mnist1d, digits or a TFDS name")
    parser.add_argument("--data-dir", default=None, help="where to look first for the data files")
    parser.add_argument("--epochs", type=_positive_int, default=10, help="epochs in all (a resumed run goes on to this)")
    parser.add_argument("--batch-size", type=_positive_int, default=128, help="global batch size")
    parser.add_argument("--learning-rate", type=_positive_float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="constant, or cosine decay from --learning-rate to 0 over --epochs")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seeds the initialization, the validation split, the data order and augmentation")
    parser.add_argument("--max-train-examples", type=_positive_int, default=None, help="train on a subset")
    parser.add_argument("--validation-fraction", type=float, default=0.1, help="held out from train, never from test")
    parser.add_argument("--augment", action="store_true", help="random translations of the training images")
    parser.add_argument("--pixel-shuffle", action="store_true", help="one fixed permutation of the pixels")
    parser.add_argument("--shift", type=int, default=0, help="shift the test images by this many pixels")
    parser.add_argument("--strategy", choices=distribute.STRATEGIES, default="default",
                        help="how to distribute training (see training/distribute.py)")
    parser.add_argument("--logical-cpus", type=_positive_int, default=None,
                        help="split the CPU into this many devices (to try --strategy mirrored without GPUs)")
    parser.add_argument("--mixed-precision", choices=("mixed_float16", "mixed_bfloat16"), default=None,
                        help="compute in 16 bits (the loss stays float32)")
    parser.add_argument("--jit-compile", action="store_true", help="compile the train step with XLA")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                        help="allow non-deterministic ops, faster on some GPUs (default: deterministic=%(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="the run directory")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--overwrite", action="store_true", help="discard an existing run in --out")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="Keras's progress display: 0 silent, 1 a bar, 2 a line per epoch "
                             "(default: %(default)s, which means 1 on a terminal, 2 otherwise)")
    return parser


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def _non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


class UsageError(ValueError):
    """A problem with the command line or the run directory, said plainly."""


def _check_run_dir(args):
    """Validates --out against --resume/--overwrite; returns the previous config."""
    out = args.out
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} exists and is not a directory.")
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"--out {out!r} is not writable: {error.strerror or error}.") from None
    config_path = os.path.join(out, "config.json")
    previous = None
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as f:
            previous = json.load(f)["args"]
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite contradict each other: pass one.")
    if previous and not args.resume and not args.overwrite:
        raise UsageError(
            f"--out {out!r} already holds a run. Pass --resume to continue it, "
            f"--overwrite to start over, or choose another --out."
        )
    if previous and args.resume:
        before = {k: previous.get(k, RESUME_DEFAULTS.get(k)) for k in RESUME_KEYS}
        changed = {k: (before[k], getattr(args, k)) for k in RESUME_KEYS if before[k] != getattr(args, k)}
        if changed:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise UsageError(f"--resume must keep the settings of the run in {out!r}; these differ: {detail}.")
        if args.lr_schedule == "cosine" and previous.get("epochs") != args.epochs:
            raise UsageError(
                f"--lr-schedule cosine decays over the run's --epochs ({previous.get('epochs')}); "
                f"a resumed run must keep it, got --epochs {args.epochs}."
            )
    return previous if args.resume else None


def _discard_run(out):
    """What --overwrite discards; called only once every other check passed."""
    for name in ("checkpoints", "tensorboard", "saved_model", "results.json", "history.csv", "model.keras"):
        path = os.path.join(out, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def library_versions():
    import keras
    import numpy
    import tensorflow as tf

    import constrained_layers

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "constrained_layers": constrained_layers.__version__,
    }


def run_finished(run_dir, epochs):
    """Whether `run_dir/results.json` reports a run of `epochs` epochs."""
    try:
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as f:
            return json.load(f).get("epochs") == epochs
    except (OSError, ValueError):
        return False


def history_csv(history):
    """The per-epoch logs as CSV text, one row per completed epoch."""
    keys = sorted({k for row in history for k in row} - {"epoch"})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in history:
        writer.writerow([row["epoch"], *(row.get(k, "") for k in keys)])
    return buffer.getvalue()


def run(args):
    """Trains as `args` says; returns the results dict (also in results.json)."""
    if args.strategy == "multiworker" and "TF_CONFIG" not in os.environ:
        raise UsageError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's index).")
    if args.logical_cpus and args.strategy == "multiworker":
        raise UsageError("--logical-cpus splits one machine's CPU for --strategy mirrored; it does not apply to multiworker.")
    if not 0 <= args.validation_fraction < 1:
        raise UsageError(f"--validation-fraction must be in [0, 1); got {args.validation_fraction}.")

    import models  # the zoo; fails early with the list of names

    try:
        entry = models.model_entry(args.model)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.out == DEFAULT_OUT:
        args.out = DEFAULT_OUT.format(model=args.model, dataset=args.dataset, seed=args.seed)

    distribute.split_cpu(args.logical_cpus)  # before TensorFlow starts
    import keras
    import tensorflow as tf

    from training import checkpoints
    from training.atomic import atomic_path, remove_leftovers, write_json, write_text
    from training.data import DatasetNotFoundError, load_dataset

    strategy, is_chief = distribute.get_strategy(args.strategy)
    run_dir = args.out
    if is_chief:
        _check_run_dir(args)
        remove_leftovers(run_dir)  # temporaries of a run killed while writing (a SavedModel's, say)
        work_dir = run_dir
    else:  # other workers take part in saving, into a scratch directory
        task = json.loads(os.environ["TF_CONFIG"])["task"]
        work_dir = os.path.join(run_dir, f".worker-{task['type']}-{task['index']}")
        os.makedirs(work_dir, exist_ok=True)
    ckpt_dir = os.path.join(work_dir, "checkpoints")

    keras.utils.set_random_seed(args.seed)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy(args.mixed_precision)

    # Every worker resumes from the chief's checkpoint (the others write none).
    state = checkpoints.load_state(os.path.join(run_dir, "checkpoints")) if args.resume else None
    first_epoch = state["epoch"] if state else 0
    if first_epoch > args.epochs or (first_epoch == args.epochs and run_finished(run_dir, first_epoch)):
        raise UsageError(f"the run in {run_dir!r} already completed {first_epoch} epochs; pass a larger --epochs to go on.")
    # first_epoch == epochs: killed after its last checkpoint, before results.json: evaluate and export.

    try:
        splits, spec = load_dataset(
            args.dataset,
            data_dir=args.data_dir,
            batch_size=args.batch_size,
            validation_fraction=args.validation_fraction,
            max_train_examples=args.max_train_examples,
            seed=args.seed,
            pixel_shuffle=args.pixel_shuffle,
            shift=args.shift,
            augment=args.augment,
            first_epoch=min(first_epoch, args.epochs - 1),
            epochs=args.epochs,
        )
    except (ValueError, DatasetNotFoundError) as error:  # an unknown name, an impossible --shift, no data
        raise UsageError(str(error)) from None
    if len(spec.input_shape) != entry.rank + 1:
        raise UsageError(
            f"model {args.model!r} takes {'sequences' if entry.rank == 1 else 'images'}, but dataset "
            f"{args.dataset!r} has inputs of shape {spec.input_shape}. "
            f"Pick a model from models.list_models(rank={len(spec.input_shape) - 1})."
        )
    if is_chief and args.overwrite:
        _discard_run(run_dir)

    with strategy.scope():
        if state:
            model = keras.saving.load_model(state["path"])
        else:
            model = models.create_model(args.model, input_shape=spec.input_shape, num_classes=spec.num_classes)
            learning_rate = args.learning_rate
            if args.lr_schedule == "cosine":
                learning_rate = keras.optimizers.schedules.CosineDecay(
                    args.learning_rate, decay_steps=args.epochs * math.ceil(spec.num_train / args.batch_size)
                )
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"],
                jit_compile=args.jit_compile,
            )
        distribute.prepare_model(model, strategy)
    trainable = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    if is_chief:
        write_json(
            os.path.join(run_dir, "config.json"),
            {
                "args": {k: v for k, v in vars(args).items() if k not in ("resume", "overwrite", "verbose")},
                "data": {k: v for k, v in vars(spec).items()},
                "model": {"name": args.model, "family": entry.family, "trainable_params": trainable},
                "strategy": {"name": args.strategy, "replicas": strategy.num_replicas_in_sync},
                "versions": library_versions(),
            },
        )

    checkpoint = checkpoints.AtomicCheckpoint(ckpt_dir, state, write=is_chief)
    callbacks = [checkpoint]
    if is_chief:
        callbacks += [
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: write_text(
                    os.path.join(run_dir, "history.csv"), history_csv(checkpoint.state["history"])
                )
            ),
            keras.callbacks.TensorBoard(log_dir=os.path.join(run_dir, "tensorboard")),
        ]
    verbose = args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)
    if first_epoch < args.epochs:
        model.fit(
            splits.train,
            epochs=args.epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=math.ceil(spec.num_train / args.batch_size),
            validation_data=splits.validation,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the pipeline shuffles, by (seed, epoch)
        )
    test_loss, test_accuracy = model.evaluate(splits.test, verbose=0)
    state = checkpoint.state
    results = {
        "model": args.model,
        "family": entry.family,
        "dataset": args.dataset,
        "trainable_params": trainable,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "epochs": state["epoch"],
        "best_val_accuracy": max((h.get("val_accuracy", float("nan")) for h in state["history"]), default=None),
        "wall_time_seconds": round(state["train_seconds"], 3),
        "train_examples_per_second": round(spec.num_train * len(state["history"]) / max(state["train_seconds"], 1e-9), 1),
        "num_train": spec.num_train,
        "seed": args.seed,
        "pixel_shuffle": args.pixel_shuffle,
        "shift": args.shift,
    }
    if is_chief:
        # Again here: a run killed after its last checkpoint resumes straight to this point.
        write_text(os.path.join(run_dir, "history.csv"), history_csv(state["history"]))
        with atomic_path(os.path.join(run_dir, "model.keras"), suffix=".keras") as tmp:
            model.save(tmp)
        with atomic_path(os.path.join(run_dir, "saved_model")) as tmp:
            model.export(tmp, verbose=False)
        write_json(os.path.join(run_dir, "results.json"), results)
        print(f"test accuracy {test_accuracy:.4f} (loss {test_loss:.4f}); {trainable:,} trainable parameters; "
              f"wrote {run_dir}/results.json, model.keras, saved_model/")
    else:  # the scratch checkpoints served their purpose
        shutil.rmtree(work_dir, ignore_errors=True)
    return results


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

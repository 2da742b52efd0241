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

Stopping: Ctrl-C (SIGINT) or SIGTERM ends a run with exit status 130 or
143 and one line, `stopped after epoch E; continue with: COMMAND --resume`;
the checkpoint is as complete as after a SIGKILL. Everything the run prints
is also appended to `train.log` in its directory.

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
import shlex
import shutil
import sys
import traceback

from training import arguments, console, distribute
from training.report import RECIPE_DEFAULTS

DEFAULT_OUT = os.path.join("runs", "{model}-{dataset}-seed{seed}")
# Settings a resumed run must share with the run it continues.
RESUME_KEYS = (
    "model", "dataset", "batch_size", "learning_rate", "seed", "max_train_examples",
    "validation_fraction", "augment", "pixel_shuffle", "shift", "mixed_precision", "lr_schedule",
    "model_args", "flip", "label_smoothing", "weight_decay",
)
# Settings a resumed run applies anew; config.json records each change in "changes".
RESUME_APPLIED = ("jit_compile", "deterministic", "steps_per_execution")
# What a config written before a setting existed meant by it.
# (The recipe's settings mean what training.report's RECIPE_DEFAULTS say.)
RESUME_DEFAULTS = {**RECIPE_DEFAULTS, "model_args": {}, "jit_compile": False, "steps_per_execution": 1}
LOG_FILE = "train.log"
# Set by training.sweep when the process's output already goes to train.log.
LOG_CAPTURED_ENV = "TRAINING_LOG_CAPTURED"


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
    parser.add_argument("--epochs", type=arguments.positive_int, default=10, help="epochs in all (a resumed run goes on to this)")
    parser.add_argument("--batch-size", type=arguments.positive_int, default=128, help="global batch size")
    parser.add_argument("--learning-rate", type=arguments.positive_float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="constant, or cosine decay from --learning-rate to 0 over --epochs")
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0,
                        help="seeds the initialization, the validation split, the data order and augmentation")
    parser.add_argument("--max-train-examples", type=arguments.positive_int, default=None, help="train on a subset")
    parser.add_argument("--validation-fraction", type=arguments.fraction, default=0.1,
                        help="held out from train, never from test; 0: no validation")
    parser.add_argument("--augment", action="store_true", help="random translations of the training images")
    parser.add_argument("--flip", action="store_true",
                        help="random horizontal flips of the training images (for data whose mirror keeps its class)")
    parser.add_argument("--label-smoothing", type=arguments.fraction, default=0.0,
                        help="smooth the one-hot targets: (1 - s)·onehot + s/classes")
    parser.add_argument("--weight-decay", type=arguments.non_negative_float, default=0.0,
                        help="decoupled weight decay (AdamW) of every weight; 0: Adam")
    parser.add_argument("--pixel-shuffle", action="store_true", help="one fixed permutation of the pixels")
    parser.add_argument("--shift", type=int, default=0, help="shift the test images by this many pixels")
    parser.add_argument("--strategy", choices=distribute.STRATEGIES, default="default",
                        help="how to distribute training (see training/distribute.py)")
    parser.add_argument("--logical-cpus", type=arguments.positive_int, default=None,
                        help="split the CPU into this many devices (to try --strategy mirrored without GPUs)")
    parser.add_argument("--mixed-precision", choices=("mixed_float16", "mixed_bfloat16"), default=None,
                        help="compute in 16 bits (the loss stays float32)")
    parser.add_argument("--jit-compile", type=arguments.jit_compile, nargs="?", const=True, default="auto",
                        help="compile with XLA: auto (Keras's choice: XLA where the model supports it), "
                             "true or false; the flag alone means true")
    parser.add_argument("--steps-per-execution", type=arguments.positive_int, default=1,
                        help="train steps per call into the backend (more: less per-step overhead on GPUs)")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                        help="allow non-deterministic ops, faster on some GPUs (default: deterministic=%(default)s)")
    parser.add_argument("--model-arg", dest="model_args", type=arguments.model_arg, action="append", default=None,
                        metavar="KEY=VALUE",
                        help="an argument of the model's builder, repeatable; VALUE is parsed as JSON "
                             "where it parses (3, 0.5, true, [32, 64]), else kept as a string")
    parser.add_argument("--out", default=DEFAULT_OUT, help="the run directory")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    parser.add_argument("--overwrite", action="store_true", help="discard an existing run in --out")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=None,
                        help="Keras's progress display: 0 silent, 1 a bar, 2 a line per epoch "
                             "(default: %(default)s, which means 1 on a terminal, 2 otherwise)")
    return parser


def model_args_dict(pairs):
    """`[(key, value), ...]` from `--model-arg` as a dict; a key given twice is an error."""
    result = {}
    for key, value in pairs or ():
        if key in result:
            raise UsageError(f"--model-arg {key} is given twice ({result[key]!r} and {value!r}).")
        result[key] = value
    return result


class UsageError(ValueError):
    """A problem with the command line or the run directory, said plainly."""


def _check_run_dir(args):
    """Validates --out against --resume/--overwrite, creating nothing; returns the previous config."""
    out = args.out
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} exists and is not a directory.")
    existing = os.path.abspath(out)
    while not os.path.exists(existing):  # the folder that would hold it
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"--out {out!r} is not writable: Not a directory ({existing}).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out!r} is not writable: Permission denied ({existing}).")
    config_path = os.path.join(out, "config.json")
    previous = None
    if os.path.exists(config_path):
        try:
            with open(config_path, encoding="utf-8") as f:
                previous = json.load(f)["args"]
        except (ValueError, KeyError, TypeError) as error:
            raise UsageError(
                f"{config_path} is not a run's config ({type(error).__name__}: {error}); "
                f"pass --overwrite to start over, or choose another --out."
            ) from None
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


def _make_run_dir(out):
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"--out {out!r} is not writable: {error.strerror or error}.") from None


def applied_changes(previous, args):
    """`{setting: [before, now]}` for the `RESUME_APPLIED` settings a resumed run changes."""
    if not previous:
        return {}
    before = {k: previous.get(k, RESUME_DEFAULTS.get(k, True)) for k in RESUME_APPLIED}
    return {k: [before[k], getattr(args, k)] for k in RESUME_APPLIED if before[k] != getattr(args, k)}


def resume_command(argv, out):
    """The command that continues this run: `argv` with `--resume`, without `--overwrite`, `--out` explicit."""
    argv = [a for a in argv if a not in ("--resume", "--overwrite")]
    if not any(a == "--out" or a.startswith("--out=") for a in argv):
        argv += ["--out", out]
    if os.path.exists(os.path.join(out, "config.json")):
        argv.append("--resume")
    return shlex.join([sys.executable, "-m", "training.train", *argv])


def _discard_run(out):
    """What --overwrite discards; called only once every other check passed."""
    for name in ("checkpoints", "tensorboard", "saved_model", "results.json", "history.csv", "model.keras", LOG_FILE):
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
    """Trains as `args` says; returns the results dict (also in results.json).

    Every argument, the run directory's state and the dataset are checked
    before anything is written (a mistake leaves no directory behind).
    `args.progress`, if set, is a dict whose `"log"` receives the `FileLog`
    (of `train.log`, headed by its `"command"`), for the caller to close.
    """
    progress = getattr(args, "progress", None) or {}
    if args.strategy == "multiworker" and "TF_CONFIG" not in os.environ:
        raise UsageError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's index).")
    if args.logical_cpus and args.strategy == "multiworker":
        raise UsageError("--logical-cpus splits one machine's CPU for --strategy mirrored; it does not apply to multiworker.")
    if not 0 <= args.validation_fraction < 1:
        raise UsageError(f"--validation-fraction must be in [0, 1); got {args.validation_fraction}.")
    args.model_args = model_args_dict(args.model_args) if isinstance(args.model_args, (list, type(None))) \
        else dict(args.model_args)

    import models  # the zoo; fails early with the list of names

    from training.sources import check_data_dir

    try:
        entry = models.model_entry(args.model)
        check_data_dir(args.dataset, args.data_dir)
    except ValueError as error:
        raise UsageError(str(error).replace("argument `data_dir`", "--data-dir")) from None
    if args.out == DEFAULT_OUT:
        args.out = DEFAULT_OUT.format(model=args.model, dataset=args.dataset, seed=args.seed)

    distribute.split_cpu(args.logical_cpus)  # before TensorFlow starts
    import keras
    import tensorflow as tf

    from training import checkpoints
    from training.atomic import atomic_path, remove_leftovers, write_json, write_text
    from training.data import DatasetNotFoundError, load_dataset
    from training.losses import classification_loss

    strategy, is_chief = distribute.get_strategy(args.strategy)
    run_dir = args.out
    previous = _check_run_dir(args) if is_chief else None
    changes = applied_changes(previous, args)

    # Every worker resumes from the chief's checkpoint (the others write none).
    # Reading it creates nothing; what a kill left is cleared once all checks passed.
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
            flip=args.flip,
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
    splits = type(splits)(*(distribute.shard_by_data(split) for split in splits))

    keras.utils.set_random_seed(args.seed)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    if args.mixed_precision:
        keras.mixed_precision.set_global_policy(args.mixed_precision)

    with strategy.scope():
        if state:
            model = keras.saving.load_model(state["path"])
            # This run's settings, not the checkpoint's ("auto" resolved as `compile` does).
            model.jit_compile = (model._resolve_auto_jit_compile()  # pylint: disable=protected-access
                                 if args.jit_compile == "auto" else args.jit_compile)
            model.steps_per_execution = args.steps_per_execution
        else:
            try:
                model = models.create_model(
                    args.model, input_shape=spec.input_shape, num_classes=spec.num_classes, **args.model_args
                )
            except (TypeError, ValueError) as error:
                if not args.model_args:
                    raise
                raise UsageError(f"--model-arg {args.model_args} for model {args.model!r}: {error}") from None
            learning_rate = args.learning_rate
            if args.lr_schedule == "cosine":
                learning_rate = keras.optimizers.schedules.CosineDecay(
                    args.learning_rate, decay_steps=args.epochs * math.ceil(spec.num_train / args.batch_size)
                )
            optimizer = (keras.optimizers.AdamW(learning_rate, weight_decay=args.weight_decay)
                         if args.weight_decay else keras.optimizers.Adam(learning_rate))
            model.compile(
                optimizer=optimizer,
                loss=classification_loss(args.label_smoothing),
                metrics=["accuracy"],
                jit_compile=args.jit_compile,
                steps_per_execution=args.steps_per_execution,
            )
        distribute.prepare_model(model, strategy)
    # Every check passed: now, and only now, the run directory is written.
    if is_chief:
        _make_run_dir(run_dir)
        if args.overwrite:
            _discard_run(run_dir)
        remove_leftovers(run_dir)  # temporaries of a run killed while writing (a SavedModel's, say)
        work_dir = run_dir
        if os.environ.get(LOG_CAPTURED_ENV) != os.path.abspath(os.path.join(run_dir, LOG_FILE)):
            progress["log"] = console.FileLog(os.path.join(run_dir, LOG_FILE), progress.get("command", ""))
    else:  # other workers take part in saving, into a scratch directory
        task = json.loads(os.environ["TF_CONFIG"])["task"]
        work_dir = os.path.join(run_dir, f".worker-{task['type']}-{task['index']}")
        os.makedirs(work_dir, exist_ok=True)
    ckpt_dir = os.path.join(work_dir, "checkpoints")
    for name, (before, now) in changes.items():
        print(f"resuming with {name} {now!r} (the run so far used {before!r}); recorded in config.json")

    trainable = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    if is_chief:
        config = {
            "args": {k: v for k, v in vars(args).items() if k not in ("resume", "overwrite", "verbose", "progress")},
            "data": {k: v for k, v in vars(spec).items()},
            "model": {"name": args.model, "family": entry.family, "trainable_params": trainable},
            "strategy": {"name": args.strategy, "replicas": strategy.num_replicas_in_sync},
            "versions": library_versions(),
        }
        if previous is not None:  # what earlier parts of the run used, where it differed
            old_config = _read_config(run_dir)
            config["changes"] = old_config.get("changes", [])
            if changes:
                config["changes"].append({"from_epoch": first_epoch + 1, "settings": changes})
        write_json(os.path.join(run_dir, "config.json"), config)

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
    with _determinism_explained(args, tf):
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
    val_accuracies = [h["val_accuracy"] for h in state["history"]
                      if h.get("val_accuracy") is not None and math.isfinite(h["val_accuracy"])]
    results = {
        "model": args.model,
        "family": entry.family,
        "dataset": args.dataset,
        "trainable_params": trainable,
        "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss),
        "epochs": state["epoch"],
        "best_val_accuracy": max(val_accuracies) if val_accuracies else None,  # None: no validation set
        "wall_time_seconds": round(state["train_seconds"], 3),
        "train_examples_per_second": round(spec.num_train * len(state["history"]) / max(state["train_seconds"], 1e-9), 1),
        "num_train": spec.num_train,
        "seed": args.seed,
        "pixel_shuffle": args.pixel_shuffle,
        "shift": args.shift,
    }
    if args.model_args:
        results["model_args"] = args.model_args
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


def _epochs_on_disk(run_dir):
    """The epoch that `run_dir/checkpoints/checkpoint.json` names; 0 if there is none."""
    try:
        with open(os.path.join(run_dir, "checkpoints", "checkpoint.json"), encoding="utf-8") as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _read_config(run_dir):
    try:
        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class _determinism_explained:  # pylint: disable=invalid-name
    """Turns TensorFlow's "no deterministic kernel" error into a `UsageError` naming the flag."""

    def __init__(self, args, tf):
        self.args, self.tf = args, tf

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if (kind is not None and self.args.deterministic and isinstance(error, self.tf.errors.OpError)
                and "determinis" in str(error).lower()):
            first = (str(error).strip().splitlines() or [""])[0]
            raise UsageError(
                f"an op has no deterministic implementation on this device ({type(error).__name__}: {first}). "
                f"Pass --no-deterministic to allow non-deterministic ops (a resumed run then no longer "
                f"repeats an uninterrupted one exactly)."
            ) from None
        return False


def main(argv=None):
    """The command line: exit status 0, 2 for a usage error, 130/143 when stopped by SIGINT/SIGTERM."""
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    args.progress = {"command": shlex.join(["python", "-m", "training.train", *argv])}
    try:
        with console.stop_on_signals():
            run(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception:  # pylint: disable=broad-except
        traceback.print_exc()  # into train.log too
        return 1
    except console.StopRequested as stop:
        epoch = _epochs_on_disk(args.out)  # what --resume continues from, whatever the instant of the stop
        print(f"stopped after epoch {epoch}; continue with: {resume_command(argv, args.out)}",
              file=sys.stderr, flush=True)
        return stop.exit_status
    finally:
        log = args.progress.get("log")
        if log is not None:
            log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

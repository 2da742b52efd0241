"""One run, step by step: check, load the data, build or restore the model, fit, evaluate, export.

`run_steps(run)` is what `python -m constrained_zoo.training.train` does after
parsing. Every argument, the run directory's state and the dataset are
checked before anything is written (a mistake leaves no directory behind).
The order of an epoch's data and augmentation are functions of (seed,
epoch), so a run resumed from its last checkpoint ends where an
uninterrupted run ends. A stop request (SIGINT, SIGTERM) is acted on after
a batch or an epoch (`signals.stop_callback`) and between the steps below.
"""

import contextlib
import dataclasses
import json
import math
import os
import shutil

from .. import settings
from . import console, distribute, rundir, signals, teacher

LOG_CAPTURED_ENV = console.LOG_CAPTURED_ENV


@dataclasses.dataclass
class Run:
    """A run's settings and where it stands (filled in step by step)."""

    values: dict
    out: str
    resume: bool = False
    overwrite: bool = False
    verbose: int = 2
    command: str = ""
    previous: dict = None
    state: dict = None
    first_epoch: int = 0
    log: object = None


def check_settings(run):
    """The checks that need neither TensorFlow nor the data; returns the zoo's entry of the model."""
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    from ..data.sources import check_data_dir  # pylint: disable=import-outside-toplevel

    values = run.values
    if values["strategy"] == "multiworker" and "TF_CONFIG" not in os.environ:
        raise rundir.UsageError("--strategy multiworker needs TF_CONFIG (the cluster and this worker's index).")
    rundir.check_clean(rundir.git_state(), values["allow_dirty"] or os.environ.get(rundir.ALLOW_DIRTY_ENV) == "1")
    if values["logical_cpus"] and values["strategy"] == "multiworker":
        raise rundir.UsageError(
            "--logical-cpus splits one machine's CPU for --strategy mirrored; it does not apply to multiworker.")
    try:
        entry = models.model_entry(values["model"])
        check_data_dir(values["dataset"], values["data_dir"])
        teacher.check(values)
    except ValueError as error:
        raise rundir.UsageError(str(error).replace("argument `data_dir`", "--data-dir")) from None
    return entry


def load_data(run, entry):
    """The run's `(splits, spec)`, from the epoch it starts at; a dataset that does not fit the model is an error."""
    from ..data import DatasetNotFoundError, SplitSettings, load_dataset  # pylint: disable=import-outside-toplevel

    v = run.values
    try:
        splits, spec = load_dataset(
            SplitSettings.from_config(v), data_dir=v["data_dir"], batch_size=v["batch_size"], augment=v["augment"],
            flip=v["flip"], first_epoch=min(run.first_epoch, v["epochs"] - 1), epochs=v["epochs"],
            teacher=teacher.load(v),
        )
    except (ValueError, DatasetNotFoundError) as error:  # an unknown name, an impossible --shift, no data
        raise rundir.UsageError(str(error)) from None
    if len(spec.input_shape) != entry.rank + 1:
        raise rundir.UsageError(
            f"model {v['model']!r} takes {'sequences' if entry.rank == 1 else 'images'}, but dataset "
            f"{v['dataset']!r} has inputs of shape {spec.input_shape}. "
            f"Pick a model from models.list_models(rank={len(spec.input_shape) - 1})."
        )
    return type(splits)(*(distribute.shard_by_data(split) for split in splits)), spec


def _optimizer(values, num_train):
    import keras  # pylint: disable=import-outside-toplevel

    learning_rate = values["learning_rate"]
    if values["lr_schedule"] == "cosine":
        steps = values["epochs"] * math.ceil(num_train / values["batch_size"])
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    if values["weight_decay"]:
        return keras.optimizers.AdamW(learning_rate, weight_decay=values["weight_decay"])
    return keras.optimizers.Adam(learning_rate)


def build_model(run, spec, strategy):
    """The model: restored from the checkpoint (this run's execution settings applied), or new and compiled."""
    import keras  # pylint: disable=import-outside-toplevel

    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    from .losses import classification_loss, classification_metric  # pylint: disable=import-outside-toplevel

    v = run.values
    with strategy.scope():
        if run.state:
            model = keras.saving.load_model(run.state["path"])
            model.jit_compile = (model._resolve_auto_jit_compile()  # pylint: disable=protected-access
                                 if v["jit_compile"] == "auto" else v["jit_compile"])
            model.steps_per_execution = v["steps_per_execution"]
        else:
            try:
                model = models.create_model(v["model"], input_shape=spec.input_shape,
                                            num_classes=spec.num_classes, **v["model_args"])
            except (TypeError, ValueError) as error:
                if not v["model_args"]:
                    raise
                raise rundir.UsageError(f"--model-arg {v['model_args']} for model {v['model']!r}: {error}") from None
            distilled = teacher.distillation(v)
            model.compile(optimizer=_optimizer(v, spec.num_train),
                          loss=classification_loss(v["label_smoothing"], distilled),
                          metrics=[classification_metric(distilled)], jit_compile=v["jit_compile"],
                          steps_per_execution=v["steps_per_execution"])
        distribute.prepare_model(model, strategy)
    return model


def write_config(run, spec, entry, model, strategy):
    """config.json: every setting, the data, the model, the strategy, the code's commit, the versions."""
    from constrained_zoo.models.architecture import trainable_params  # pylint: disable=import-outside-toplevel

    from constrained_zoo.atomic import write_json  # pylint: disable=import-outside-toplevel

    trainable = trainable_params(model)
    config = {
        "args": {**settings.recorded(run.values), "out": run.out},
        "data": dict(vars(spec)),
        "model": {"name": run.values["model"], "family": entry.family, "params": int(model.count_params()),
                  "trainable_params": trainable},
        "strategy": {"name": run.values["strategy"], "replicas": strategy.num_replicas_in_sync},
        "versions": rundir.library_versions(),
        "environment": rundir.environment(),
    }
    git = rundir.git_state()
    if git:
        config["git"] = git
    if run.previous is not None:  # what earlier parts of the run used, where it differed
        old = rundir.read_json(os.path.join(run.out, rundir.CONFIG), {})
        config["changes"] = old.get("changes", [])
        changes = settings.applied_changes(run.previous, run.values)
        if changes:
            config["changes"].append({"from_epoch": run.first_epoch + 1, "settings": changes})
        if old.get("git") and old["git"] != git:
            config["git_before"] = old.get("git_before", []) + [{"from_epoch": 1, **old["git"]}]
    write_json(os.path.join(run.out, rundir.CONFIG), config)


def prepare(run, is_chief):
    """Everything checked; now the run directory is written. Returns the directory this worker writes."""
    from constrained_zoo.atomic import remove_leftovers  # pylint: disable=import-outside-toplevel

    if not is_chief:  # other workers take part in saving, into a scratch directory
        task = json.loads(os.environ["TF_CONFIG"])["task"]
        work_dir = os.path.join(run.out, f".worker-{task['type']}-{task['index']}")
        os.makedirs(work_dir, exist_ok=True)
        return work_dir
    rundir.make_run_dir(run.out, run.overwrite)
    remove_leftovers(run.out)  # temporaries of a run killed while writing (a SavedModel's, say)
    log_path = os.path.abspath(os.path.join(run.out, rundir.LOG_FILE))
    if os.environ.get(LOG_CAPTURED_ENV) != log_path:
        run.log = console.FileLog(log_path, run.command)
    for name, (before, now) in settings.applied_changes(run.previous, run.values).items():
        print(f"resuming with {name} {now!r} (the run so far used {before!r}); recorded in config.json")
    return run.out


def restore_state(run):
    """Reads the last checkpoint (creating nothing); refuses a run that already reached --epochs."""
    from . import checkpoints  # pylint: disable=import-outside-toplevel

    run.state = checkpoints.load_state(os.path.join(run.out, "checkpoints")) if run.resume else None
    run.first_epoch = run.state["epoch"] if run.state else 0
    epochs = run.values["epochs"]
    if run.first_epoch > epochs or (run.first_epoch == epochs and rundir.run_finished(run.out, epochs)):
        raise rundir.UsageError(
            f"the run in {run.out!r} already completed {run.first_epoch} epochs; pass a larger --epochs to go on.")
    # first_epoch == epochs: killed after its last checkpoint, before results.json: evaluate and export.


def run_steps(run):
    """Trains as `run` says; returns the results dict (also in results.json)."""
    entry = check_settings(run)
    distribute.split_cpu(run.values["logical_cpus"])  # before TensorFlow starts
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    strategy, is_chief = distribute.get_strategy(run.values["strategy"])
    run.previous = rundir.check_run_dir(run.out, run.values, run.resume, run.overwrite) if is_chief else None
    restore_state(run)
    splits, spec = load_data(run, entry)
    signals.raise_if_stopped()
    keras.utils.set_random_seed(run.values["seed"])
    if run.values["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    if run.values["mixed_precision"]:
        keras.mixed_precision.set_global_policy(run.values["mixed_precision"])
    model = build_model(run, spec, strategy)
    signals.raise_if_stopped()
    work_dir = prepare(run, is_chief)
    if is_chief:
        write_config(run, spec, entry, model, strategy)
    state = fit_model(run, model, splits, spec, work_dir, is_chief)
    with determinism_explained(run.values):
        test_loss, test_accuracy = model.evaluate(splits.test, verbose=0, callbacks=[signals.stop_callback()])
    results = results_of(run, entry, spec, model, state, test_loss, test_accuracy)
    if is_chief:
        finish(run, model, state, results)
    else:  # the scratch checkpoints served their purpose
        shutil.rmtree(work_dir, ignore_errors=True)
    return results


def validation_epochs(epochs, points):
    """`model.fit`'s `validation_freq`: the (1-based) epochs that are validated.

    Every epoch (1) when `points` is None or at least `epochs`; otherwise
    `points` epochs spread evenly, `ceil(k * epochs / points)` for k = 1..points,
    so the last epoch (whose figure selects) is always one of them. Validation
    does not touch the training: the weights are the same either way.

    >>> validation_epochs(10, None), validation_epochs(10, 10)
    (1, 1)
    >>> validation_epochs(10, 4)
    [3, 5, 8, 10]
    """
    if points is None or points >= epochs:
        return 1
    return sorted({math.ceil(k * epochs / points) for k in range(1, points + 1)})


def fit_model(run, model, splits, spec, work_dir, is_chief):
    """`model.fit` from the run's first epoch to --epochs, a checkpoint after each (or every
    --checkpoint-seconds); returns the checkpoint's state."""
    import keras  # pylint: disable=import-outside-toplevel

    from . import checkpoints  # pylint: disable=import-outside-toplevel
    from constrained_zoo.atomic import write_text  # pylint: disable=import-outside-toplevel

    v = run.values
    # Every worker of a multi-worker run takes part in each save, so they save at the same epochs: every one.
    seconds = 0 if v["strategy"] == "multiworker" else v.get("checkpoint_seconds") or 0
    checkpoint = checkpoints.AtomicCheckpoint(os.path.join(work_dir, "checkpoints"), run.state, write=is_chief,
                                              min_seconds=seconds, last_epoch=v["epochs"])
    callbacks = [checkpoint]
    if is_chief:
        callbacks += [
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: write_text(
                os.path.join(run.out, "history.csv"), checkpoints.history_csv(checkpoint.state["history"]))),
            keras.callbacks.TensorBoard(log_dir=os.path.join(run.out, "tensorboard")),
        ]
    callbacks.append(signals.stop_callback(checkpoint))  # last: after the epoch's checkpoint
    with determinism_explained(v):
        if run.first_epoch < v["epochs"]:
            model.fit(splits.train, epochs=v["epochs"], initial_epoch=run.first_epoch,
                      steps_per_epoch=math.ceil(spec.num_train / v["batch_size"]),
                      validation_data=splits.validation, callbacks=callbacks, verbose=run.verbose,
                      validation_freq=validation_epochs(v["epochs"], v.get("validation_points")),
                      shuffle=False)  # the pipeline shuffles, by (seed, epoch)
    return checkpoint.state


def results_of(run, entry, spec, model, state, test_loss, test_accuracy):
    """results.json's contents."""
    from constrained_zoo.models.architecture import trainable_params  # pylint: disable=import-outside-toplevel

    v = run.values
    val_accuracies = [h["val_accuracy"] for h in state["history"]
                      if h.get("val_accuracy") is not None and math.isfinite(h["val_accuracy"])]
    results = {
        "model": v["model"], "family": entry.family, "dataset": v["dataset"],
        "params": int(model.count_params()),  # every weight the model holds, BatchNorm's statistics included
        "trainable_params": trainable_params(model),
        "test_accuracy": float(test_accuracy), "test_loss": float(test_loss), "epochs": state["epoch"],
        "best_val_accuracy": max(val_accuracies) if val_accuracies else None,  # None: no validation set
        # The reported model is the last epoch's: this is its own validation figure.
        "final_val_accuracy": state["history"][-1].get("val_accuracy") if val_accuracies else None,
        "wall_time_seconds": round(state["train_seconds"], 3),
        "train_examples_per_second": round(
            spec.num_train * len(state["history"]) / max(state["train_seconds"], 1e-9), 1),
        "num_train": spec.num_train, "seed": v["seed"], "pixel_shuffle": v["pixel_shuffle"], "shift": v["shift"],
    }
    if v["model_args"]:
        results["model_args"] = v["model_args"]
    return results


def finish(run, model, state, results):
    """history.csv, model.keras, saved_model/ and, last, results.json, each written atomically."""
    from . import checkpoints  # pylint: disable=import-outside-toplevel
    from constrained_zoo.atomic import atomic_path, write_json, write_text  # pylint: disable=import-outside-toplevel

    # Again here: a run killed after its last checkpoint resumes straight to this point.
    write_text(os.path.join(run.out, "history.csv"), checkpoints.history_csv(state["history"]))
    with atomic_path(os.path.join(run.out, "model.keras"), suffix=".keras") as tmp:
        model.save(tmp)
    with atomic_path(os.path.join(run.out, "saved_model")) as tmp:
        model.export(tmp, verbose=False)
    write_json(os.path.join(run.out, rundir.RESULTS), results)
    print(f"test accuracy {results['test_accuracy']:.4f} (loss {results['test_loss']:.4f}); "
          f"{results['trainable_params']:,} trainable parameters; "
          f"wrote {run.out}/results.json, model.keras, saved_model/")


@contextlib.contextmanager
def determinism_explained(values):
    """In the block, TensorFlow's "no deterministic kernel" error becomes a `UsageError` naming the flag."""
    try:
        yield
    except Exception as error:  # pylint: disable=broad-except
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        if not (values["deterministic"] and isinstance(error, tf.errors.OpError)
                and "determinis" in str(error).lower()):
            raise
        first = (str(error).strip().splitlines() or [""])[0]
        raise rundir.UsageError(
            f"an op has no deterministic implementation on this device ({type(error).__name__}: {first}). "
            f"Pass --no-deterministic to allow non-deterministic ops (a resumed run then no longer "
            f"repeats an uninterrupted one exactly)."
        ) from None

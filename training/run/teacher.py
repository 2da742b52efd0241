"""A finished run as the teacher of knowledge distillation (`--teacher RUN_DIR`).

The teacher is the run's `saved_model/` (every finished run exports one),
so any model the training CLI trained can teach, whatever its code. In the
training pipeline it predicts each batch after augmentation, and its logits
travel beside the labels to `losses.DistillationLoss`
(`load_dataset(teacher=...)`).

A teacher must have trained on the student's training split: the same
dataset, seed, validation fraction, cap on training examples and pixel
shuffle (`SplitSettings.TRAINING`). A teacher trained on another split has
learned from the student's validation examples, and validation, which
chooses recipes, would overrate the student. So in a sweep, `{seed}` in `--teacher` stands for each run's
seed: seed k learns from the teacher's seed k.

Example:

>>> teacher_dir({"teacher": "results/big/runs/cnn_bn_50k/seed{seed}", "seed": 3})
'results/big/runs/cnn_bn_50k/seed3'
"""

import os

from .. import settings
from ..data.split import SplitSettings
from . import rundir

SEED = "{seed}"
_DISTILLATION_FLAGS = ("distill_temperature", "distill_weight")


def teacher_dir(values):
    """The teacher's run directory for a run of `values` (`{seed}` replaced by its seed), or None."""
    if not values.get("teacher"):
        return None
    return values["teacher"].replace(SEED, str(values["seed"]))


def distillation(values):
    """`(temperature, weight)` for `losses.classification_loss`, or None without a teacher."""
    values = settings.completed(values)
    return (values["distill_temperature"], values["distill_weight"]) if values["teacher"] else None


def check(values):
    """Raises `UsageError` unless the teacher (if any) is a finished run on the student's split."""
    values = settings.completed(values)
    path = teacher_dir(values)
    if path is None:
        changed = [s for s in _DISTILLATION_FLAGS if values[s] != settings.by_name(s).default]
        if changed:
            raise rundir.UsageError(
                f"{settings.by_name(changed[0]).option} {values[changed[0]]} applies to distillation; "
                f"pass --teacher RUN_DIR too.")
        return
    config = rundir.read_json(os.path.join(path, rundir.CONFIG))
    if config is None or not os.path.isdir(os.path.join(path, "saved_model")) \
            or not os.path.exists(os.path.join(path, rundir.RESULTS)):
        raise rundir.UsageError(
            f"--teacher {values['teacher']!r}: {path!r} is not a finished run directory (its config.json, "
            f"results.json and saved_model/, which python -m constrained_zoo.training.train writes at the end).")
    theirs = SplitSettings.from_config(config.get("args", {}))
    different = theirs.differences(SplitSettings.from_config(values), SplitSettings.TRAINING)
    if different:
        said = ", ".join(f"{k} {a!r} (this run: {b!r})" for k, (a, b) in different.items())
        raise rundir.UsageError(
            f"--teacher {values['teacher']!r}: {path!r} trained on another split ({said}). A teacher must "
            f"have trained on the student's split; in a sweep, write {SEED} in --teacher for each run's seed.")


def load(values):
    """The teacher as a function from a batch of inputs to float32 logits `(B, K)`, or None."""
    path = teacher_dir(values)
    if path is None:
        return None
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    served = tf.saved_model.load(os.path.join(path, "saved_model"))

    def predict(inputs):
        return tf.cast(served.serve(inputs), tf.float32)

    predict.saved_model = served  # keeps the restored variables alive with the function
    return predict

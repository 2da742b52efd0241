"""The training loss: sparse categorical cross-entropy, with optional label smoothing or distillation.

Keras's `SparseCategoricalCrossentropy` takes no `label_smoothing`; its
dense sibling does. `SmoothedSparseCategoricalCrossentropy` is the dense one
on one-hot integer labels. `DistillationLoss` adds a teacher's softened
predictions (Hinton et al. 2015), which the training pipeline sends beside
each training label (`load_dataset(teacher=...)`); `LabelAccuracy` is the
accuracy of such targets. All are registered so that checkpoints
(`model.keras`, which keep the compiled loss) load for `--resume` wherever
`training` is imported. Without smoothing or a teacher the training CLI
keeps Keras's own loss and metric.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="constrained_zoo")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy between integer labels, smoothed, and logits.

    The target of an example of class `y` among `K` classes is
    `(1 - s)·onehot(y) + s/K`, as `CategoricalCrossentropy(label_smoothing=s)`.

    Args:
        label_smoothing: `s`, a float in [0, 1).
        reduction, name: as for `keras.losses.Loss`.

    Example:

    >>> loss = SmoothedSparseCategoricalCrossentropy(0.1)
    >>> round(float(loss([0], [[0.0, 0.0]])), 4)  # log 2, whatever the smoothing
    0.6931
    """

    def __init__(self, label_smoothing=0.1, reduction="sum_over_batch_size",
                 name="smoothed_sparse_categorical_crossentropy", dtype=None):
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0 <= label_smoothing < 1:
            raise ValueError(
                "Invalid value for argument `label_smoothing`. Expected a number in [0, 1). "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")  # (B,)
        one_hot = ops.one_hot(labels, ops.shape(y_pred)[-1], dtype=y_pred.dtype)  # (B, K)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=True, label_smoothing=self.label_smoothing
        )

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def _labels_and_teacher(y_true, num_classes):
    """`(labels (B,), teacher logits (B, K) or None)` of targets `(B,)`, `(B, 1)` or `(B, 1 + K)`."""
    if len(y_true.shape) == 2 and y_true.shape[-1] == 1 + num_classes:
        return ops.cast(y_true[:, 0], "int32"), ops.cast(y_true[:, 1:], "float32")
    return ops.cast(ops.reshape(y_true, (-1,)), "int32"), None


@keras.saving.register_keras_serializable(package="constrained_zoo")
class DistillationLoss(keras.losses.Loss):
    """Cross-entropy with the labels, plus the distance to a teacher's softened predictions.

    For student logits `s`, teacher logits `t`, temperature `T` and weight `w`:
    `(1 - w)·CE(labels, s) + w·T²·KL(softmax(t/T) || softmax(s/T))`, the
    `T²` keeping the soft term's gradients on the scale of the hard one's
    (Hinton, Vinyals and Dean 2015). The targets of a training batch are
    `(B, 1 + K)`: the label, then the teacher's `K` logits. Targets without
    the teacher's, `(B,)` or `(B, 1)` (validation and test), give the
    cross-entropy alone, so the validation loss stays comparable to other
    runs'.

    Args:
        temperature: `T`, a positive float.
        weight: `w`, the soft term's share, in [0, 1].
        label_smoothing: smoothing of the label term (as `label_smoothing`
            of `SmoothedSparseCategoricalCrossentropy`), in [0, 1).
        reduction, name: as for `keras.losses.Loss`.

    Example:

    >>> loss = DistillationLoss(temperature=2.0, weight=0.5)
    >>> round(float(loss([[0.0, 3.0, 0.0]], [[3.0, 0.0]])), 4)  # teacher = student: the labels' term only
    0.0243
    >>> round(float(loss([0], [[3.0, 0.0]])), 4)  # no teacher logits: plain cross-entropy
    0.0486
    """

    def __init__(self, temperature=4.0, weight=0.5, label_smoothing=0.0, reduction="sum_over_batch_size",
                 name="distillation_loss", dtype=None):
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError("Invalid value for argument `temperature`. Expected a positive number. "
                             f"Received: temperature={temperature!r}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise ValueError("Invalid value for argument `weight`. Expected a number in [0, 1]. "
                             f"Received: weight={weight!r}")
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.temperature, self.weight = float(temperature), float(weight)
        self.hard = SmoothedSparseCategoricalCrossentropy(label_smoothing, reduction=None)

    def call(self, y_true, y_pred):
        y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        labels, teacher = _labels_and_teacher(y_true, y_pred.shape[-1])
        hard = self.hard.call(labels, y_pred)  # (B,)
        if teacher is None:
            return hard
        t = self.temperature
        target = ops.softmax(teacher / t, axis=-1)  # (B, K)
        log_student = ops.log_softmax(ops.cast(y_pred, "float32") / t, axis=-1)
        soft = ops.sum(target * (ops.log(ops.maximum(target, 1e-12)) - log_student), axis=-1)  # KL, (B,)
        return (1 - self.weight) * hard + self.weight * t * t * ops.cast(soft, hard.dtype)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "weight": self.weight,
                "label_smoothing": self.hard.label_smoothing}


@keras.saving.register_keras_serializable(package="constrained_zoo")
class LabelAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Accuracy against the labels of `DistillationLoss`'s targets (and of plain ones); named "accuracy"."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred)
        labels, _ = _labels_and_teacher(y_true, y_pred.shape[-1])
        return super().update_state(labels, y_pred, sample_weight)


def classification_loss(label_smoothing=0.0, distillation=None):
    """The loss the training CLI compiles: Keras's own, the smoothed one, or, with
    `distillation=(temperature, weight)`, `DistillationLoss`."""
    if distillation:
        return DistillationLoss(*distillation, label_smoothing=label_smoothing)
    if label_smoothing:
        return SmoothedSparseCategoricalCrossentropy(label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def classification_metric(distillation=None):
    """The accuracy the training CLI compiles (named "accuracy" either way)."""
    return LabelAccuracy() if distillation else "accuracy"

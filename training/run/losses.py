"""The training loss: sparse categorical cross-entropy, with optional label smoothing.

Keras's `SparseCategoricalCrossentropy` takes no `label_smoothing`; its
dense sibling does. `SmoothedSparseCategoricalCrossentropy` is the dense one
on one-hot integer labels, registered so that checkpoints (`model.keras`,
which keep the compiled loss) load for `--resume` wherever `training` is
imported. Without smoothing the training CLI keeps Keras's own loss.
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


def classification_loss(label_smoothing=0.0):
    """The loss the training CLI compiles: Keras's own without smoothing, else the smoothed one."""
    if label_smoothing:
        return SmoothedSparseCategoricalCrossentropy(label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

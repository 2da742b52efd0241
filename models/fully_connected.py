"""FullyConnected family: eq. (7.1.1), every hidden pixel sees every pixel.

Hidden representations keep a spatial grid (H', W', filters) but no
constraint: an MLP whose hidden layers are images. Sizes differ in the grid.
Overrides: `width` (multiplies the channels of every hidden image, 1 by
default) and `dropout` (before the classifier).
"""

import keras

from ._blocks import CHANNELS_LAST, FULLY_CONNECTED, IMAGE_SHAPE, SEQUENCE_SHAPE, check_knobs, classifier_head, scaled
from ._registry import register_model

__all__ = ["build_fully_connected"]


def build_fully_connected(name, input_shape, num_classes, grids, filters=1, width=1.0, dropout=0.0):
    """FullyConnected(filters·width, output_size=g, relu) for g in `grids` → logits.

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        grids: the output size of each hidden layer, e.g. [(8, 8)] or [50].
        filters: channels of each hidden image.
        width: a multiplier of `filters` (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).

    Example:

    >>> build_fully_connected("f", (28, 28, 1), 10, [(4, 4)], width=2).count_params()
    25450
    """
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, grid in enumerate(grids):
        x = FULLY_CONNECTED[rank](
            scaled(filters, width), output_size=grid, activation="relu", data_format=CHANNELS_LAST,
            name=f"fully_connected_{i}",
        )(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="fully_connected")
def fc2d_tiny(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """One 4×4 hidden image."""
    return build_fully_connected("fc2d_tiny", input_shape, num_classes, [(4, 4)], **overrides)


@register_model(family="fully_connected", same_as="mlp_small")
def fc2d_small(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """One 8×8 hidden image."""
    return build_fully_connected("fc2d_small", input_shape, num_classes, [(8, 8)], **overrides)


@register_model(family="fully_connected")
def fc2d_base(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Hidden images of 16×16 and 12×12."""
    return build_fully_connected("fc2d_base", input_shape, num_classes, [(16, 16), (12, 12)], **overrides)


@register_model(family="fully_connected")
def fc2d_large(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Hidden images of 24×24 and 16×16."""
    return build_fully_connected("fc2d_large", input_shape, num_classes, [(24, 24), (16, 16)], **overrides)


@register_model(family="fully_connected", rank=1)
def fc1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """One hidden sequence of length 50."""
    return build_fully_connected("fc1d_tiny", input_shape, num_classes, [50], **overrides)


@register_model(family="fully_connected", rank=1)
def fc1d_large(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Two hidden sequences of length 200."""
    return build_fully_connected("fc1d_large", input_shape, num_classes, [200, 200], **overrides)


@register_model(family="fully_connected", rank=1, same_as="mlp_1d_small")
def fc1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Two hidden sequences of length 100 (MNIST-1D's MLP, on a grid)."""
    return build_fully_connected("fc1d_small", input_shape, num_classes, [100, 100], **overrides)

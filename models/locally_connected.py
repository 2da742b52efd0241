"""LocallyConnected family: locality without weight sharing.

Stages of LocallyConnected(filters, delta, strides=2): each halves the grid.
Sizes differ in width. Overrides: the window (`delta` or `kernel_size`),
`padding_mode`, `convolution`, `width` (multiplies every stage's channels)
and `dropout` (before the classifier).
"""

import keras

from ._blocks import (
    CHANNELS_LAST,
    IMAGE_SHAPE,
    LOCALLY_CONNECTED,
    SEQUENCE_SHAPE,
    check_knobs,
    classifier_head,
    scaled,
    window,
)
from ._registry import register_model

__all__ = ["build_locally_connected"]


def build_locally_connected(
    name, input_shape, num_classes, widths, delta=1, kernel_size=None, padding_mode="zeros", convolution=False,
    width=1.0, dropout=0.0,
):
    """LocallyConnected(w·width, delta, strides=2, relu) for w in `widths` → logits.

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        widths: channels of each stage.
        delta: the window half-width Δ of every stage (kernel 2Δ+1).
        kernel_size: instead of `delta`, Keras's kernel size.
        padding_mode, convolution: as `LocallyConnected`'s.
        width: a multiplier of every stage's channels (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).

    Example:

    >>> build_locally_connected("l", (28, 28, 1), 10, (2, 4), delta=2).count_params()
    22158
    """
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, channels in enumerate(widths):
        x = LOCALLY_CONNECTED[rank](
            scaled(channels, width), **window(delta, kernel_size), strides=2, padding_mode=padding_mode,
            convolution=convolution, activation="relu", data_format=CHANNELS_LAST, name=f"locally_connected_{i}",
        )(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="locally_connected")
def lc_tiny(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 2 and 4 channels, Δ = 1."""
    return build_locally_connected("lc_tiny", input_shape, num_classes, (2, 4), **overrides)


@register_model(family="locally_connected")
def lc_small(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 4 and 8 channels, Δ = 1."""
    return build_locally_connected("lc_small", input_shape, num_classes, (4, 8), **overrides)


@register_model(family="locally_connected")
def lc_base(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 16 and 32 channels, Δ = 1."""
    return build_locally_connected("lc_base", input_shape, num_classes, (16, 32), **overrides)


@register_model(family="locally_connected")
def lc_large(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 32 and 64 channels, Δ = 1."""
    return build_locally_connected("lc_large", input_shape, num_classes, (32, 64), **overrides)


@register_model(family="locally_connected", rank=1)
def lc1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 8 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_tiny", input_shape, num_classes, (8, 8, 8), **{"delta": 2, **overrides})


@register_model(family="locally_connected", rank=1)
def lc1d_base(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 32 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_base", input_shape, num_classes, (32, 32, 32), **{"delta": 2, **overrides})


@register_model(family="locally_connected", rank=1)
def lc1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 16 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_small", input_shape, num_classes, (16, 16, 16), **{"delta": 2, **overrides})

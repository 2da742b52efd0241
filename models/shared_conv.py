"""SharedConv family: translation invariance and locality, channel by channel.

SharedConv mixes space but not channels (eq. 7.1.3 per channel); a Δ = 0
MultiChannelConv, a per-pixel MLP (exercise 1), mixes channels but not space.
Alternating the two is a depthwise-separable network. `sharedconv_global`
drops locality: a whole-image kernel (delta=None), eq. (7.1.2).

Overrides: the window (`delta` or `kernel_size`; not for `sharedconv_global`,
whose point is to have none), `padding_mode`, `convolution` and
`implementation` of the SharedConv layers, `width` (multiplies every stage's
channels) and `dropout` (before the classifier).
"""

import keras

from ._blocks import (
    CHANNELS_LAST,
    IMAGE_SHAPE,
    MULTI_CHANNEL_CONV,
    SEQUENCE_SHAPE,
    SHARED_CONV,
    check_knobs,
    classifier_head,
    global_average_pool,
    max_pool,
    scaled,
    window,
)
from ._registry import register_model

__all__ = ["build_shared_conv"]


def build_shared_conv(
    name, input_shape, num_classes, widths, delta=1, kernel_size=None, padding_mode="zeros", convolution=False,
    implementation="auto", width=1.0, dropout=0.0,
):
    """Per stage: per-pixel MLP to w·width channels, SharedConv(delta), pool.

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        widths: channels of each stage.
        delta: the window half-width Δ of every SharedConv (kernel 2Δ+1).
        kernel_size: instead of `delta`, Keras's kernel size.
        padding_mode, convolution, implementation: as `SharedConv`'s.
        width: a multiplier of every stage's channels (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).

    Example:

    >>> build_shared_conv("s", (28, 28, 1), 10, (8, 16), padding_mode="circular").output_shape
    (None, 10)
    """
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, channels in enumerate(widths):
        x = MULTI_CHANNEL_CONV[rank](
            scaled(channels, width), delta=0, activation="relu", data_format=CHANNELS_LAST, name=f"pixel_mlp_{i}"
        )(x)
        x = SHARED_CONV[rank](
            **window(delta, kernel_size), padding_mode=padding_mode, convolution=convolution,
            implementation=implementation, activation="relu", data_format=CHANNELS_LAST, name=f"shared_conv_{i}",
        )(x)
        x = max_pool(rank, name=f"pool_{i}")(x)
    x = global_average_pool(rank)(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="shared_conv")
def sharedconv_tiny(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 8, 16, 32 channels, Δ = 1."""
    return build_shared_conv("sharedconv_tiny", input_shape, num_classes, (8, 16, 32), **overrides)


@register_model(family="shared_conv")
def sharedconv_base(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 32, 64, 128 channels, Δ = 1."""
    return build_shared_conv("sharedconv_base", input_shape, num_classes, (32, 64, 128), **overrides)


@register_model(family="shared_conv")
def sharedconv_large(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 64, 128, 256 channels, Δ = 1."""
    return build_shared_conv("sharedconv_large", input_shape, num_classes, (64, 128, 256), **overrides)


@register_model(family="shared_conv")
def sharedconv_small(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 16, 32, 64 channels, Δ = 1."""
    return build_shared_conv("sharedconv_small", input_shape, num_classes, (16, 32, 64), **overrides)


@register_model(family="shared_conv", options=("padding_mode", "convolution", "implementation", "width", "dropout"))
def sharedconv_global(
    input_shape=IMAGE_SHAPE, num_classes=10, padding_mode="zeros", convolution=False, implementation="auto",
    width=1.0, dropout=0.0,
):
    """Translation invariance without locality: whole-image kernels, eq. (7.1.2)."""
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = MULTI_CHANNEL_CONV[rank](
        scaled(8, width), delta=0, activation="relu", data_format=CHANNELS_LAST, name="pixel_mlp"
    )(inputs)
    x = SHARED_CONV[rank](
        delta=None, padding_mode=padding_mode, convolution=convolution, implementation=implementation,
        activation="relu", data_format=CHANNELS_LAST, name="shared_conv_global",
    )(x)
    x = max_pool(rank, name="pool")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name="sharedconv_global")


@register_model(family="shared_conv", rank=1)
def sharedconv1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 16 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_tiny", input_shape, num_classes, (16, 16, 16), **{"delta": 2, **overrides})


@register_model(family="shared_conv", rank=1)
def sharedconv1d_base(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 64 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_base", input_shape, num_classes, (64, 64, 64), **{"delta": 2, **overrides})


@register_model(family="shared_conv", rank=1)
def sharedconv1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three depthwise-separable stages of 32 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_small", input_shape, num_classes, (32, 32, 32), **{"delta": 2, **overrides})

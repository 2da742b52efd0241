"""SharedConv family: translation invariance and locality, channel by channel.

SharedConv mixes space but not channels (eq. 7.1.3 per channel); a Δ = 0
MultiChannelConv, a per-pixel MLP (exercise 1), mixes channels but not space.
Alternating the two is a depthwise-separable network. `sharedconv_global`
drops locality: a whole-image kernel (delta=None), eq. (7.1.2).
"""

import keras

from models._blocks import (
    IMAGE_SHAPE,
    MULTI_CHANNEL_CONV,
    SEQUENCE_SHAPE,
    SHARED_CONV,
    classifier_head,
    global_average_pool,
    max_pool,
)
from models._registry import register_model

__all__ = ["build_shared_conv"]


def build_shared_conv(name, input_shape, num_classes, widths, delta=1, dropout=0.0):
    """Per stage: per-pixel MLP to w channels, SharedConv(delta), pool."""
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, width in enumerate(widths):
        x = MULTI_CHANNEL_CONV[rank](width, delta=0, activation="relu", name=f"pixel_mlp_{i}")(x)
        x = SHARED_CONV[rank](delta=delta, activation="relu", name=f"shared_conv_{i}")(x)
        x = max_pool(rank, name=f"pool_{i}")(x)
    x = global_average_pool(rank)(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="shared_conv")
def sharedconv_tiny(input_shape=IMAGE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 8, 16, 32 channels, Δ = 1."""
    return build_shared_conv("sharedconv_tiny", input_shape, num_classes, (8, 16, 32))


@register_model(family="shared_conv")
def sharedconv_base(input_shape=IMAGE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 32, 64, 128 channels, Δ = 1."""
    return build_shared_conv("sharedconv_base", input_shape, num_classes, (32, 64, 128))


@register_model(family="shared_conv")
def sharedconv_large(input_shape=IMAGE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 64, 128, 256 channels, Δ = 1."""
    return build_shared_conv("sharedconv_large", input_shape, num_classes, (64, 128, 256))


@register_model(family="shared_conv")
def sharedconv_small(input_shape=IMAGE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 16, 32, 64 channels, Δ = 1."""
    return build_shared_conv("sharedconv_small", input_shape, num_classes, (16, 32, 64))


@register_model(family="shared_conv")
def sharedconv_global(input_shape=IMAGE_SHAPE, num_classes=10):
    """Translation invariance without locality: whole-image kernels, eq. (7.1.2)."""
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = MULTI_CHANNEL_CONV[rank](8, delta=0, activation="relu", name="pixel_mlp")(inputs)
    x = SHARED_CONV[rank](delta=None, activation="relu", name="shared_conv_global")(x)
    x = max_pool(rank, name="pool")(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="sharedconv_global")


@register_model(family="shared_conv", rank=1)
def sharedconv1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 16 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_tiny", input_shape, num_classes, (16, 16, 16), delta=2)


@register_model(family="shared_conv", rank=1)
def sharedconv1d_base(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 64 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_base", input_shape, num_classes, (64, 64, 64), delta=2)


@register_model(family="shared_conv", rank=1)
def sharedconv1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three depthwise-separable stages of 32 channels, Δ = 2, on sequences."""
    return build_shared_conv("sharedconv1d_small", input_shape, num_classes, (32, 32, 32), delta=2)

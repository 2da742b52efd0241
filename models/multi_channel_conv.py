"""MultiChannelConv family: the convolution with channels, eq. (7.1.7).

Plain CNNs (stages of MultiChannelConv + pooling; `cnn_strided` and
`cnn1d_strided`: stride-2 stages, the locally connected models' design),
LeNet-5 as in D2L §7.6,
MNIST-1D's CNN, and `cnn_bn_*`: the best small models we could design
(convolution, batch normalization, ReLU; then global average pooling or
a small flattened map), chosen on validation splits.

Overrides: the window (`delta` or `kernel_size`; not for `cnn1d_paper`,
whose kernels differ by layer), `padding_mode`, `convolution`,
`implementation`, `width` (multiplies every hidden width) and `dropout`
(before the classifier; `cnn_bn_50k` has 0.1 by default, the others 0).
"""

import keras

from ._blocks import (
    CHANNELS_LAST,
    IMAGE_SHAPE,
    MULTI_CHANNEL_CONV,
    SEQUENCE_SHAPE,
    check_knobs,
    classifier_head,
    global_average_pool,
    max_pool,
    scaled,
    window,
)
from ._registry import register_model

__all__ = ["build_cnn", "build_cnn_bn", "build_strided_cnn", "lenet5"]


def build_cnn(
    name, input_shape, num_classes, widths, delta=1, kernel_size=None, padding_mode="zeros", convolution=False,
    implementation="auto", width=1.0, dropout=0.0,
):
    """Per stage: MultiChannelConv(w·width, delta, relu), 2× max pool → logits.

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        widths: channels of each stage.
        delta: the window half-width Δ of every convolution (kernel 2Δ+1).
        kernel_size: instead of `delta`, Keras's kernel size.
        padding_mode, convolution, implementation: as `MultiChannelConv`'s.
        width: a multiplier of every stage's channels (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).

    Example:

    >>> build_cnn("c", (28, 28, 1), 10, (4, 8), delta=2, padding_mode="circular").count_params()
    4842
    """
    return _stages(name, input_shape, num_classes, widths, strides=1, pool=True, delta=delta, kernel_size=kernel_size,
                   padding_mode=padding_mode, convolution=convolution, implementation=implementation, width=width,
                   dropout=dropout)


def build_strided_cnn(
    name, input_shape, num_classes, widths, delta=1, kernel_size=None, padding_mode="zeros", convolution=False,
    implementation="auto", width=1.0, dropout=0.0,
):
    """Per stage: MultiChannelConv(w·width, delta, strides=2, relu) → logits.

    The design of the locally connected (`lc_*`) and low-rank (`lrlc_*`)
    models with the kernel shared everywhere: a comparison of the three
    differs only in sharing. Arguments as `build_cnn`'s.

    Example:

    >>> build_strided_cnn("s", (40, 1), 10, (32, 32, 32), delta=2).count_params()
    12106
    """
    return _stages(name, input_shape, num_classes, widths, strides=2, pool=False, delta=delta, kernel_size=kernel_size,
                   padding_mode=padding_mode, convolution=convolution, implementation=implementation, width=width,
                   dropout=dropout)


def _stages(name, input_shape, num_classes, widths, *, strides, pool, delta, kernel_size, width, dropout, **conv):
    """The plain CNNs' one design: per stage MultiChannelConv(strides, relu), then a 2× pool if `pool`; → logits."""
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, channels in enumerate(widths):
        x = MULTI_CHANNEL_CONV[rank](
            scaled(channels, width), **window(delta, kernel_size), strides=strides, activation="relu",
            data_format=CHANNELS_LAST, name=f"conv_{i}", **conv,
        )(x)
        if pool:
            x = max_pool(rank, name=f"pool_{i}")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


def build_cnn_bn(
    name, input_shape, num_classes, stages, delta=1, kernel_size=None, padding_mode="zeros", convolution=False,
    implementation="auto", width=1.0, dropout=0.1, bn_momentum=0.9, head="gap",
):
    """Stages of [MultiChannelConv → BatchNorm → ReLU]×n, 2× pool; GAP → logits.

    Args:
        name, input_shape, num_classes: as `build_cnn`'s.
        stages: one tuple of widths per stage, e.g. ((16,), (32, 32)).
        delta, kernel_size, padding_mode, convolution, implementation,
            width: as `build_cnn`'s.
        dropout: rate of a `Dropout` before the classifier (none at 0).
        head: "gap" (global average pooling after the last stage) or
            "flatten" (one more 2× pooling, then every position's features:
            more parameters, but where a feature is survives).
        bn_momentum: of the moving statistics. 0.9, not Keras's 0.99: with
            0.99 they trail the weights by ~100 steps, which is most of a
            short run (a 4-epoch demo evaluated at 12% accuracy).

    Example:

    >>> build_cnn_bn("b", (28, 28, 1), 10, ((8,), (16,)), width=0.5).output_shape
    (None, 10)
    """
    check_knobs(width, dropout)
    if head not in ("gap", "flatten"):
        raise ValueError(f'Invalid value for argument `head`. Expected "gap" or "flatten". Received: head={head!r}')
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, widths in enumerate(stages):
        for j, channels in enumerate(widths):
            x = MULTI_CHANNEL_CONV[rank](
                scaled(channels, width), **window(delta, kernel_size), padding_mode=padding_mode,
                convolution=convolution, implementation=implementation, use_bias=False, data_format=CHANNELS_LAST,
                name=f"conv_{i}_{j}",
            )(x)
            x = keras.layers.BatchNormalization(momentum=bn_momentum, name=f"bn_{i}_{j}")(x)
            x = keras.layers.ReLU(name=f"relu_{i}_{j}")(x)
        if i < len(stages) - 1 or head == "flatten":
            x = max_pool(rank, name=f"pool_{i}")(x)
    if head == "gap":
        x = global_average_pool(rank)(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="multi_channel_conv")
def cnn_tiny(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 4 and 8 channels, Δ = 1."""
    return build_cnn("cnn_tiny", input_shape, num_classes, (4, 8), **overrides)


@register_model(family="multi_channel_conv")
def cnn_large(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 64 and 128 channels, Δ = 1."""
    return build_cnn("cnn_large", input_shape, num_classes, (64, 128), **overrides)


@register_model(family="multi_channel_conv")
def cnn_bn_10k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """A ≤10k-parameter CNN: BatchNorm, five 3×3 layers in three stages, flatten head.

    Chosen on Fashion-MNIST's validation split over a global-pooling head
    (0.891 against 0.910 after 10 epochs): at this size the head's 2,570
    parameters are better spent keeping where each feature is.
    """
    return build_cnn_bn(
        "cnn_bn_10k", input_shape, num_classes, ((8, 8), (16, 16), (16,)), head="flatten", **{"dropout": 0.0, **overrides}
    )


@register_model(family="multi_channel_conv")
def cnn_bn_50k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """A ≤50k-parameter CNN: BatchNorm, five 3×3 layers in three stages, flatten head.

    Chosen on Fashion-MNIST's validation split: 0.926 after 10 epochs, where
    a global-pooling design of the same size ((24,), (32, 48), (64,)) had
    0.923 after 20.
    """
    return build_cnn_bn("cnn_bn_50k", input_shape, num_classes, ((16, 16), (32, 32), (64,)), head="flatten", **overrides)


@register_model(family="multi_channel_conv")
def cnn_small(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 8 and 16 channels, Δ = 1."""
    return build_cnn("cnn_small", input_shape, num_classes, (8, 16), **overrides)


@register_model(family="multi_channel_conv")
def cnn_base(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stages of 32 and 64 channels, Δ = 1."""
    return build_cnn("cnn_base", input_shape, num_classes, (32, 64), **overrides)


@register_model(family="multi_channel_conv", datasets=("fashion_mnist",))
def lenet5(
    input_shape=IMAGE_SHAPE, num_classes=10, delta=2, kernel_size=None, padding_mode="zeros", convolution=False,
    implementation="auto", width=1.0, dropout=0.0,
):
    """LeNet-5 as in D2L §7.6: 5×5 convolutions, sigmoid, average pooling.

    The overrides are `build_cnn`'s; `width` multiplies all four hidden
    widths (6, 16, 120, 84) and `dropout` adds a `Dropout` before the logits.
    """
    check_knobs(width, dropout)
    conv = dict(window(delta, kernel_size), padding_mode=padding_mode, convolution=convolution,
                implementation=implementation, activation="sigmoid")
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = MULTI_CHANNEL_CONV[2](scaled(6, width), **conv, data_format=CHANNELS_LAST, name="conv_0")(inputs)  # (B, 28, 28, 6)
    x = keras.layers.AveragePooling2D(2, data_format=CHANNELS_LAST, name="pool_0")(x)  # (B, 14, 14, 6)
    x = MULTI_CHANNEL_CONV[2](
        scaled(16, width), padding="valid", **conv, data_format=CHANNELS_LAST, name="conv_1"
    )(x)  # (B, 10, 10, 16)
    x = keras.layers.AveragePooling2D(2, data_format=CHANNELS_LAST, name="pool_1")(x)  # (B, 5, 5, 16)
    x = keras.layers.Flatten(data_format=CHANNELS_LAST, name="flatten")(x)  # (B, 400)
    x = keras.layers.Dense(scaled(120, width), activation="sigmoid", name="dense_0")(x)
    x = keras.layers.Dense(scaled(84, width), activation="sigmoid", name="dense_1")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x), name="lenet5")


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 8 channels, Δ = 2 (kernel 5), on sequences."""
    return build_cnn("cnn1d_tiny", input_shape, num_classes, (8, 8, 8), **{"delta": 2, **overrides})


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 16 channels, Δ = 2 (kernel 5), on sequences."""
    return build_cnn("cnn1d_small", input_shape, num_classes, (16, 16, 16), **{"delta": 2, **overrides})


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_base(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stages of 32 channels, Δ = 2 (kernel 5), on sequences."""
    return build_cnn("cnn1d_base", input_shape, num_classes, (32, 32, 32), **{"delta": 2, **overrides})


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_strided(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Three stride-2 stages of 32 channels, Δ = 2: the design of `lc1d_*` and `lrlc1d_*`, on sequences."""
    return build_strided_cnn("cnn1d_strided", input_shape, num_classes, (32, 32, 32), **{"delta": 2, **overrides})


@register_model(family="multi_channel_conv")
def cnn_strided(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Two stride-2 stages of 16 and 32 channels, Δ = 1: the design of `lc_*` and `lrlc_*`."""
    return build_strided_cnn("cnn_strided", input_shape, num_classes, (16, 32), **overrides)


@register_model(family="multi_channel_conv", rank=1,
                options=("padding_mode", "convolution", "implementation", "width", "dropout"))
def cnn1d_paper(
    input_shape=SEQUENCE_SHAPE, num_classes=10, padding_mode="zeros", convolution=False, implementation="auto",
    width=1.0, dropout=0.0,
):
    """MNIST-1D's CNN (Greydanus 2020): 25 channels, kernels 5, 3, 3, stride 2.

    5,210 parameters on length-40 inputs, as in the paper. Its kernels
    differ by layer, so it takes no window override.
    """
    check_knobs(width, dropout)
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, kernel in enumerate((5, 3, 3)):
        x = MULTI_CHANNEL_CONV[1](
            scaled(25, width), kernel_size=kernel, strides=2, padding_mode=padding_mode, convolution=convolution,
            implementation=implementation, activation="relu", data_format=CHANNELS_LAST, name=f"conv_{i}",
        )(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name="cnn1d_paper")


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_bn_5k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """A ≤5,210-parameter CNN for MNIST-1D: BatchNorm, global pooling."""
    return build_cnn_bn(
        "cnn1d_bn_5k", input_shape, num_classes, ((16,), (20,), (28,)), **{"delta": 2, "dropout": 0.0, **overrides}
    )

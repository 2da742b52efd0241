"""MultiChannelConv family: the convolution with channels, eq. (7.1.7).

Plain CNNs (stages of MultiChannelConv + pooling), LeNet-5 as in D2L §7.6,
and MNIST-1D's CNN.
"""

import keras

from models._blocks import IMAGE_SHAPE, MULTI_CHANNEL_CONV, SEQUENCE_SHAPE, classifier_head, max_pool
from models._registry import register_model

__all__ = ["build_cnn", "lenet5"]


def build_cnn(name, input_shape, num_classes, widths, delta=1, dropout=0.0):
    """Per stage: MultiChannelConv(w, delta, relu), 2× max pool → logits."""
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, width in enumerate(widths):
        x = MULTI_CHANNEL_CONV[rank](width, delta=delta, activation="relu", name=f"conv_{i}")(x)
        x = max_pool(rank, name=f"pool_{i}")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="multi_channel_conv")
def cnn_small(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 8 and 16 channels, Δ = 1."""
    return build_cnn("cnn_small", input_shape, num_classes, (8, 16))


@register_model(family="multi_channel_conv")
def cnn_base(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 32 and 64 channels, Δ = 1."""
    return build_cnn("cnn_base", input_shape, num_classes, (32, 64))


@register_model(family="multi_channel_conv", datasets=("fashion_mnist",))
def lenet5(input_shape=IMAGE_SHAPE, num_classes=10):
    """LeNet-5 as in D2L §7.6: 5×5 convolutions, sigmoid, average pooling."""
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = MULTI_CHANNEL_CONV[2](6, delta=2, activation="sigmoid", name="conv_0")(inputs)  # (B, 28, 28, 6)
    x = keras.layers.AveragePooling2D(2, name="pool_0")(x)  # (B, 14, 14, 6)
    x = MULTI_CHANNEL_CONV[2](16, delta=2, padding="valid", activation="sigmoid", name="conv_1")(x)  # (B, 10, 10, 16)
    x = keras.layers.AveragePooling2D(2, name="pool_1")(x)  # (B, 5, 5, 16)
    x = keras.layers.Flatten(name="flatten")(x)  # (B, 400)
    x = keras.layers.Dense(120, activation="sigmoid", name="dense_0")(x)
    x = keras.layers.Dense(84, activation="sigmoid", name="dense_1")(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x), name="lenet5")


@register_model(family="multi_channel_conv", rank=1)
def cnn1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three stages of 25 channels, Δ = 2 (kernel 5), on sequences."""
    return build_cnn("cnn1d_small", input_shape, num_classes, (25, 25, 25), delta=2)

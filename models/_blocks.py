"""Pieces every family shares: layers by rank, pooling, the classifier head, the knobs."""

import math
import numbers

import keras

import constrained_layers as cl

FULLY_CONNECTED = {1: cl.FullyConnected1D, 2: cl.FullyConnected2D}
LOCALLY_CONNECTED = {1: cl.LocallyConnected1D, 2: cl.LocallyConnected}
LOW_RANK_LOCALLY_CONNECTED = {1: cl.LowRankLocallyConnected1D, 2: cl.LowRankLocallyConnected}
SHARED_CONV = {1: cl.SharedConv1D, 2: cl.SharedConv}
MULTI_CHANNEL_CONV = {1: cl.MultiChannelConv1D, 2: cl.MultiChannelConv}

IMAGE_SHAPE = (28, 28, 1)  # Fashion-MNIST
SEQUENCE_SHAPE = (40, 1)  # MNIST-1D
# The zoo's inputs are channels-last whatever `keras.config.image_data_format()` says.
CHANNELS_LAST = "channels_last"


def max_pool(rank, name):
    """2× max pooling over the spatial axes (pads odd sizes, as "same")."""
    layer = keras.layers.MaxPooling1D if rank == 1 else keras.layers.MaxPooling2D
    return layer(2, padding="same", data_format=CHANNELS_LAST, name=name)


def global_average_pool(rank, name="global_pool"):
    layer = keras.layers.GlobalAveragePooling1D if rank == 1 else keras.layers.GlobalAveragePooling2D
    return layer(data_format=CHANNELS_LAST, name=name)


def classifier_head(x, num_classes, dropout=0.0):
    """Flatten (if spatial), optional dropout, then the logits."""
    if len(x.shape) > 2:
        x = keras.layers.Flatten(data_format=CHANNELS_LAST, name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.layers.Dense(num_classes, name="logits")(x)


def check_knobs(width, dropout):
    """Validates the width multiplier and the dropout rate, Keras's way."""
    if isinstance(width, bool) or not isinstance(width, numbers.Real) or not width > 0 or not math.isfinite(width):
        raise ValueError(
            f"Invalid value for argument `width`. Expected a number > 0 (a multiplier of every hidden width). "
            f"Received: width={width!r}"
        )
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(
            f"Invalid value for argument `dropout`. Expected a rate in [0, 1). Received: dropout={dropout!r}"
        )


def scaled(channels, width):
    """`channels` times the width multiplier, rounded half up, at least 1.

    >>> scaled(16, 0.5), scaled(3, 0.5), scaled(1, 0.1)
    (8, 2, 1)
    """
    return max(1, int(math.floor(channels * width + 0.5)))


def window(delta, kernel_size):
    """The window argument of a layer: `kernel_size` if given, else `delta`."""
    return {"kernel_size": kernel_size} if kernel_size is not None else {"delta": delta}

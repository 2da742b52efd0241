"""LocallyConnected family: locality without weight sharing.

Stages of LocallyConnected(filters, delta, strides=2): each halves the grid.
Sizes differ in width.
"""

import keras

from models._blocks import IMAGE_SHAPE, LOCALLY_CONNECTED, SEQUENCE_SHAPE, classifier_head
from models._registry import register_model

__all__ = ["build_locally_connected"]


def build_locally_connected(name, input_shape, num_classes, widths, delta=1, dropout=0.0):
    """LocallyConnected(w, delta, strides=2, relu) for w in `widths` → logits."""
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, width in enumerate(widths):
        x = LOCALLY_CONNECTED[rank](width, delta=delta, strides=2, activation="relu", name=f"locally_connected_{i}")(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="locally_connected")
def lc_tiny(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 2 and 4 channels, Δ = 1."""
    return build_locally_connected("lc_tiny", input_shape, num_classes, (2, 4))


@register_model(family="locally_connected")
def lc_small(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 4 and 8 channels, Δ = 1."""
    return build_locally_connected("lc_small", input_shape, num_classes, (4, 8))


@register_model(family="locally_connected")
def lc_base(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 16 and 32 channels, Δ = 1."""
    return build_locally_connected("lc_base", input_shape, num_classes, (16, 32))


@register_model(family="locally_connected")
def lc_large(input_shape=IMAGE_SHAPE, num_classes=10):
    """Two stages of 32 and 64 channels, Δ = 1."""
    return build_locally_connected("lc_large", input_shape, num_classes, (32, 64))


@register_model(family="locally_connected", rank=1)
def lc1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three stages of 8 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_tiny", input_shape, num_classes, (8, 8, 8), delta=2)


@register_model(family="locally_connected", rank=1)
def lc1d_base(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three stages of 32 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_base", input_shape, num_classes, (32, 32, 32), delta=2)


@register_model(family="locally_connected", rank=1)
def lc1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Three stages of 16 channels, Δ = 2, on sequences."""
    return build_locally_connected("lc1d_small", input_shape, num_classes, (16, 16, 16), delta=2)

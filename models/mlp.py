"""MLP baseline: dense layers on the flattened pixels, no spatial structure.

The reference every constraint is measured against; `mlp_256_128_100` is the
"MLP 256-128-100" of the Fashion-MNIST benchmark table (0.8833 at about 248k
parameters). Overrides: `width` (multiplies every hidden layer's units) and
`dropout` (before the classifier).
"""

import keras

from ._blocks import CHANNELS_LAST, IMAGE_SHAPE, SEQUENCE_SHAPE, check_knobs, classifier_head, scaled
from ._registry import register_model

__all__ = ["build_mlp"]


def build_mlp(name, input_shape, num_classes, widths, width=1.0, dropout=0.0):
    """Flatten → Dense(w·width, relu) for w in `widths` → Dense(num_classes).

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        widths: units of each hidden layer.
        width: a multiplier of every hidden layer's units (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).

    Example:

    >>> build_mlp("m", (28, 28, 1), 10, (64,), width=0.5).count_params()
    25450
    """
    check_knobs(width, dropout)
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(data_format=CHANNELS_LAST, name="flatten_pixels")(inputs)  # (B, H·W·C)
    for i, units in enumerate(widths):
        x = keras.layers.Dense(scaled(units, width), activation="relu", name=f"dense_{i}")(x)  # (B, units)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="mlp")
def mlp_linear(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Multinomial logistic regression on the pixels (no hidden layer)."""
    return build_mlp("mlp_linear", input_shape, num_classes, (), **overrides)


@register_model(family="mlp")
def mlp_small(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """One hidden layer of 64 units."""
    return build_mlp("mlp_small", input_shape, num_classes, (64,), **overrides)


@register_model(family="mlp")
def mlp_256_128_100(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """The Fashion-MNIST benchmark's MLP 256-128-100."""
    return build_mlp("mlp_256_128_100", input_shape, num_classes, (256, 128, 100), **overrides)


@register_model(family="mlp")
def mlp_large(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """Hidden layers of 1024 and 512 units."""
    return build_mlp("mlp_large", input_shape, num_classes, (1024, 512), **overrides)


@register_model(family="mlp", rank=1)
def mlp_1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """One hidden layer of 32 units, on sequences."""
    return build_mlp("mlp_1d_tiny", input_shape, num_classes, (32,), **overrides)


@register_model(family="mlp", rank=1)
def mlp_1d_large(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """Two hidden layers of 256 units, on sequences."""
    return build_mlp("mlp_1d_large", input_shape, num_classes, (256, 256), **overrides)


@register_model(family="mlp", rank=1)
def mlp_1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """MNIST-1D's MLP baseline: two hidden layers of 100 units."""
    return build_mlp("mlp_1d_small", input_shape, num_classes, (100, 100), **overrides)

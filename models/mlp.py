"""MLP baseline: dense layers on the flattened pixels, no spatial structure.

The reference every constraint is measured against; `mlp_256_128_100` is the
"MLP 256-128-100" of the Fashion-MNIST benchmark table (0.8833 at about 248k
parameters).
"""

import keras

from models._blocks import IMAGE_SHAPE, SEQUENCE_SHAPE, classifier_head
from models._registry import register_model

__all__ = ["build_mlp"]


def build_mlp(name, input_shape, num_classes, widths, dropout=0.0):
    """Flatten → Dense(w, relu) for w in `widths` → Dense(num_classes)."""
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = keras.layers.Flatten(name="flatten_pixels")(inputs)  # (B, H·W·C)
    for i, width in enumerate(widths):
        x = keras.layers.Dense(width, activation="relu", name=f"dense_{i}")(x)  # (B, width)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


@register_model(family="mlp")
def mlp_linear(input_shape=IMAGE_SHAPE, num_classes=10):
    """Multinomial logistic regression on the pixels (no hidden layer)."""
    return build_mlp("mlp_linear", input_shape, num_classes, ())


@register_model(family="mlp")
def mlp_small(input_shape=IMAGE_SHAPE, num_classes=10):
    """One hidden layer of 64 units."""
    return build_mlp("mlp_small", input_shape, num_classes, (64,))


@register_model(family="mlp")
def mlp_256_128_100(input_shape=IMAGE_SHAPE, num_classes=10):
    """The Fashion-MNIST benchmark's MLP 256-128-100."""
    return build_mlp("mlp_256_128_100", input_shape, num_classes, (256, 128, 100))


@register_model(family="mlp")
def mlp_large(input_shape=IMAGE_SHAPE, num_classes=10):
    """Hidden layers of 1024 and 512 units."""
    return build_mlp("mlp_large", input_shape, num_classes, (1024, 512))


@register_model(family="mlp", rank=1)
def mlp_1d_tiny(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """One hidden layer of 32 units, on sequences."""
    return build_mlp("mlp_1d_tiny", input_shape, num_classes, (32,))


@register_model(family="mlp", rank=1)
def mlp_1d_large(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """Two hidden layers of 256 units, on sequences."""
    return build_mlp("mlp_1d_large", input_shape, num_classes, (256, 256))


@register_model(family="mlp", rank=1)
def mlp_1d_small(input_shape=SEQUENCE_SHAPE, num_classes=10):
    """MNIST-1D's MLP baseline: two hidden layers of 100 units."""
    return build_mlp("mlp_1d_small", input_shape, num_classes, (100, 100))

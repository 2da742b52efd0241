"""LowRankLocallyConnected family: locality, with the kernels shared in part.

The locally connected models' design (stages of a stride-2 layer, relu,
then the classifier) with `LowRankLocallyConnected`: the kernel at each
position a combination of R shared kernels (Elsayed et al. 2020), between
`lc_*` (no sharing) and the convolution (full sharing). Models come at
ranks R = 2, 4, 8 for two budgets, about 10k and 50k parameters, the
widths chosen to meet the budget at each rank (a higher rank buys more
freedom per position with fewer channels): `lrlc_r{R}_{budget}` for images
(two stages of w and 2w channels, Δ = 1, as `lc_*`), `lrlc1d_r{R}_{budget}`
for sequences (three stages of w channels, Δ = 2, as `lc1d_*`).

Overrides: the window (`delta` or `kernel_size`), `num_kernels` (R),
`padding_mode`, `convolution`, `implementation`, `width` (multiplies every
stage's channels) and `dropout` (before the classifier), and Elsayed et
al.'s parameterization of the mixing weights: `mixing_normalization`
("softmax") and, for images, `mixing_factorization` ("row_column"), as
`LowRankLocallyConnected`'s. Without them the models are as published.
"""

import keras

from ._blocks import (
    CHANNELS_LAST,
    IMAGE_SHAPE,
    LOW_RANK_LOCALLY_CONNECTED,
    SEQUENCE_SHAPE,
    check_knobs,
    classifier_head,
    scaled,
    window,
)
from ._registry import FAMILY_OPTIONS, register_model

__all__ = ["build_low_rank_locally_connected"]

#: The sequence models' overrides: the row × column factorization needs two spatial axes.
SEQUENCE_OPTIONS = tuple(o for o in FAMILY_OPTIONS["low_rank_locally_connected"] if o != "mixing_factorization")


def build_low_rank_locally_connected(
    name, input_shape, num_classes, widths, num_kernels, delta=1, kernel_size=None, padding_mode="zeros",
    convolution=False, implementation="auto", width=1.0, dropout=0.0, mixing_normalization=None,
    mixing_factorization=None,
):
    """LowRankLocallyConnected(w·width, delta, num_kernels, strides=2, relu) for w in `widths` → logits.

    Args:
        name: the model's name.
        input_shape: without the batch axis.
        num_classes: number of logits.
        widths: channels of each stage.
        num_kernels: R, the shared kernels of every stage.
        delta: the window half-width Δ of every stage (kernel 2Δ+1).
        kernel_size: instead of `delta`, Keras's kernel size.
        padding_mode, convolution, implementation: as `LowRankLocallyConnected`'s.
        width: a multiplier of every stage's channels (rounded, ≥ 1).
        dropout: rate of a `Dropout` before the classifier (none at 0).
        mixing_normalization, mixing_factorization: as `LowRankLocallyConnected`'s
            (None: the free mixing weights).

    Example:

    >>> build_low_rank_locally_connected("r", (28, 28, 1), 10, (2, 4), num_kernels=3).count_params()
    2993
    """
    check_knobs(width, dropout)
    rank = len(input_shape) - 1
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    for i, channels in enumerate(widths):
        x = LOW_RANK_LOCALLY_CONNECTED[rank](
            scaled(channels, width), **window(delta, kernel_size), strides=2, num_kernels=num_kernels,
            padding_mode=padding_mode, convolution=convolution, implementation=implementation, activation="relu",
            mixing_normalization=mixing_normalization, mixing_factorization=mixing_factorization,
            data_format=CHANNELS_LAST, name=f"low_rank_{i}",
        )(x)
    return keras.Model(inputs, classifier_head(x, num_classes, dropout), name=name)


def _images(name, input_shape, num_classes, widths, num_kernels, overrides):
    return build_low_rank_locally_connected(
        name, input_shape, num_classes, widths, **{"num_kernels": num_kernels, **overrides}
    )


def _sequences(name, input_shape, num_classes, widths, num_kernels, overrides):
    return build_low_rank_locally_connected(
        name, input_shape, num_classes, widths, **{"num_kernels": num_kernels, "delta": 2, **overrides}
    )


@register_model(family="low_rank_locally_connected")
def lrlc_r2_10k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 2 shared kernels, stages of 7 and 14 channels, Δ = 1."""
    return _images("lrlc_r2_10k", input_shape, num_classes, (7, 14), 2, overrides)


@register_model(family="low_rank_locally_connected")
def lrlc_r4_10k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 4 shared kernels, stages of 6 and 12 channels, Δ = 1."""
    return _images("lrlc_r4_10k", input_shape, num_classes, (6, 12), 4, overrides)


@register_model(family="low_rank_locally_connected")
def lrlc_r8_10k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 8 shared kernels, stages of 5 and 9 channels, Δ = 1."""
    return _images("lrlc_r8_10k", input_shape, num_classes, (5, 9), 8, overrides)


@register_model(family="low_rank_locally_connected")
def lrlc_r2_50k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 2 shared kernels, stages of 26 and 52 channels, Δ = 1."""
    return _images("lrlc_r2_50k", input_shape, num_classes, (26, 52), 2, overrides)


@register_model(family="low_rank_locally_connected")
def lrlc_r4_50k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 4 shared kernels, stages of 20 and 40 channels, Δ = 1."""
    return _images("lrlc_r4_50k", input_shape, num_classes, (20, 40), 4, overrides)


@register_model(family="low_rank_locally_connected")
def lrlc_r8_50k(input_shape=IMAGE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 8 shared kernels, stages of 15 and 30 channels, Δ = 1."""
    return _images("lrlc_r8_50k", input_shape, num_classes, (15, 30), 8, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r2_10k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 2 shared kernels, three stages of 21 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r2_10k", input_shape, num_classes, (21, 21, 21), 2, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r4_10k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 4 shared kernels, three stages of 15 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r4_10k", input_shape, num_classes, (15, 15, 15), 4, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r8_10k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 10k parameters: 8 shared kernels, three stages of 10 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r8_10k", input_shape, num_classes, (10, 10, 10), 8, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r2_50k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 2 shared kernels, three stages of 48 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r2_50k", input_shape, num_classes, (48, 48, 48), 2, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r4_50k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 4 shared kernels, three stages of 34 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r4_50k", input_shape, num_classes, (34, 34, 34), 4, overrides)


@register_model(family="low_rank_locally_connected", rank=1, options=SEQUENCE_OPTIONS)
def lrlc1d_r8_50k(input_shape=SEQUENCE_SHAPE, num_classes=10, **overrides):
    """About 50k parameters: 8 shared kernels, three stages of 24 channels, Δ = 2, on sequences."""
    return _sequences("lrlc1d_r8_50k", input_shape, num_classes, (24, 24, 24), 8, overrides)

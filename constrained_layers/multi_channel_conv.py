"""MultiChannelConv1D/2D: the convolutional layer with channels.

    H[i,j,d] = u_d + Σ_{a,b,c} V[a,b,c,d] · X[i+a, j+b, c]

Eq. (7.1.7): translation invariance, locality, and channels mixed by a
(kh, kw, C, filters) kernel; `keras.layers.Conv2D`'s layer and signature,
with the text's Δ, boundary modes, true convolution and FFT added.
"""

import keras

from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers._fft import IMPLEMENTATION_ARG
from constrained_layers.translation_invariant import TranslationInvariantLayer


class BaseMultiChannelConv(TranslationInvariantLayer):
    """Rank-generic multi-channel convolution; see `MultiChannelConv`.

    The public layers fix `rank` (a class attribute) and carry the
    docstring; the arguments are these, as `WindowedLayer` normalizes them.
    """

    depthwise = False

    def __init__(
        self,
        filters,
        kernel_size=None,
        strides=1,
        padding="same",
        data_format=None,
        dilation_rate=1,
        *,
        delta=None,
        padding_mode="zeros",
        convolution=False,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(
            self.rank,
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            delta=delta,
            padding_mode=padding_mode,
            convolution=convolution,
            implementation=implementation,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="constrained_layers")
class MultiChannelConv(BaseMultiChannelConv):
    __doc__ = f"""Multi-channel 2D convolution, eq. (7.1.7) of D2L §7.1.

    H[i,j,d] = u_d + Σ_{{a,b,c}} V[a,b,c,d] · X[i+a, j+b, c]. Same
    arguments, weights and numerics as `keras.layers.Conv2D`, except that
    padding defaults to "same": `MultiChannelConv(16, 3)` is
    `Conv2D(16, 3, padding="same")`. With `kernel_size=1` (`delta=0`) it is
    a per-pixel MLP layer (exercise 1).

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)` (channels_first: `(batch, C, H, W)`).

    Output shape:
        4D tensor `(batch, H', W', filters)` (channels_first:
        `(batch, filters, H', W')`).

    Weights:
        kernel `(kh, kw, C, filters)`; bias `(filters,)`.

    Example:

    >>> layer = MultiChannelConv(16, 3)  # as keras.layers.Conv2D(16, 3, padding="same")
    >>> layer(np.zeros((2, 28, 28, 3))).shape
    (2, 28, 28, 16)
    >>> layer.kernel.shape
    (3, 3, 3, 16)
    >>> MultiChannelConv(16, delta=1).kernel_size  # the text's half-width: 2Δ+1 = 3
    (3, 3)
    """

    rank = 2


@keras.saving.register_keras_serializable(package="constrained_layers")
class MultiChannelConv1D(BaseMultiChannelConv):
    __doc__ = f"""Multi-channel 1D convolution, eq. (7.1.7) on sequences.

    H[i,d] = u_d + Σ_{{a,c}} V[a,c,d] · X[i+a, c]. Same arguments, weights
    and numerics as `keras.layers.Conv1D`, except that padding defaults to
    "same"; `padding="causal"` is an audio model's causal convolution.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)` (channels_first: `(batch, C, L)`).

    Output shape:
        3D tensor `(batch, L', filters)` (channels_first:
        `(batch, filters, L')`).

    Weights:
        kernel `(k, C, filters)`; bias `(filters,)`.

    Example:

    >>> MultiChannelConv1D(8, 3, padding="causal", dilation_rate=2)(np.zeros((2, 40, 1))).shape
    (2, 40, 8)
    """

    rank = 1

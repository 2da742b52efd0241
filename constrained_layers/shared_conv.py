"""SharedConv1D/2D: translation invariance (and locality) on each channel.

    H[i,j,c] = u_c + Σ_{a,b} V_c[a,b] · X[i+a, j+b, c]

Eq. (7.1.3) applied to each channel separately; on one channel it is exactly
(7.1.3). With neither `kernel_size` nor `delta` the window covers the whole
image (a, b over -(H-1)..H-1): translation invariance without locality,
eq. (7.1.2).
"""

import keras

from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers._fft import IMPLEMENTATION_ARG
from constrained_layers.translation_invariant import TranslationInvariantLayer


class BaseSharedConv(TranslationInvariantLayer):
    """Rank-generic per-channel shared convolution; see `SharedConv`.

    The public layers fix `rank` (a class attribute) and carry the
    docstring; the arguments are these, as `WindowedLayer` normalizes them.
    """

    depthwise = True
    whole_input_window = True
    has_filters = False

    def __init__(
        self,
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
        if "filters" in kwargs:
            raise TypeError(
                f"`{type(self).__name__}` takes no `filters`: it convolves each "
                f"channel with its own kernel, so the output has as many channels "
                f"as the input. Use MultiChannelConv to mix channels. "
                f"Received: filters={kwargs['filters']!r}"
            )
        super().__init__(
            self.rank,
            None,
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
class SharedConv(BaseSharedConv):
    __doc__ = f"""Shared 2D convolution of each channel: eq. (7.1.3), per channel.

    H[i,j,c] = u_c + Σ_{{a,b}} V_c[a,b] · X[i+a, j+b, c]: the translation
    invariant (§7.1.2.1) and local (§7.1.2.2) layer of the text, one kernel
    per channel. Same arguments, weights and numerics as
    `keras.layers.DepthwiseConv2D(kernel_size, ..., depth_multiplier=1)`,
    except that padding defaults to "same".

    Args:
{WINDOW_ARGS}
            Here, unlike the other layers, passing neither `kernel_size` nor
            `delta` (the default) gives a whole-image kernel of side
            2H-1 × 2W-1: translation invariance without locality,
            eq. (7.1.2).
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)` (channels_first: `(batch, C, H, W)`);
        H and W must be known for a whole-image kernel.

    Output shape:
        4D tensor `(batch, H', W', C)` (channels_first: `(batch, C, H', W')`).

    Weights:
        kernel `(kh, kw, C, 1)`; bias `(C,)`.

    Example:

    >>> layer = SharedConv(5)  # as keras.layers.DepthwiseConv2D(5, padding="same")
    >>> layer(np.zeros((2, 28, 28, 3))).shape
    (2, 28, 28, 3)
    >>> layer.kernel.shape
    (5, 5, 3, 1)
    >>> SharedConv(delta=2).kernel_size  # the text's half-width: 2Δ+1 = 5
    (5, 5)
    >>> SharedConv()(np.zeros((1, 28, 28, 1))).shape  # whole-image kernel
    (1, 28, 28, 1)
    """

    rank = 2


@keras.saving.register_keras_serializable(package="constrained_layers")
class SharedConv1D(BaseSharedConv):
    __doc__ = f"""Shared 1D convolution of each channel: eq. (7.1.3) on sequences.

    H[i,c] = u_c + Σ_a V_c[a] · X[i+a, c]. Same arguments, weights and
    numerics as `keras.layers.DepthwiseConv1D(kernel_size, ...,
    depth_multiplier=1)`, except that padding defaults to "same".

    Args:
{WINDOW_ARGS}
            Passing neither `kernel_size` nor `delta` (the default) gives a
            whole-sequence kernel of length 2L-1: translation invariance
            without locality.
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)` (channels_first: `(batch, C, L)`).

    Output shape:
        3D tensor `(batch, L', C)` (channels_first: `(batch, C, L')`).

    Weights:
        kernel `(k, C, 1)`; bias `(C,)`.

    Example:

    >>> SharedConv1D(7, padding="causal")(np.zeros((2, 40, 1))).shape
    (2, 40, 1)
    """

    rank = 1

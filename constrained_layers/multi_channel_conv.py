"""MultiChannelConv1D/2D: the convolutional layer with channels.

    H[i,j,d] = u_d + Σ_{a,b,c} V[a,b,c,d] · X[i+a, j+b, c]

Eq. (7.1.7): translation invariance, locality, and channels mixed by a
(kh, kw, C, filters) kernel; `keras.layers.Conv2D`'s layer, with the text's
Δ, boundary modes and true convolution added.
"""

import keras
from keras import ops

from constrained_layers import _fft, _validation
from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers._fft import IMPLEMENTATION_ARG
from constrained_layers.base import WindowedLayer


class BaseMultiChannelConv(WindowedLayer):
    """Rank-generic multi-channel convolution; see `MultiChannelConv`."""

    def __init__(self, rank, filters, implementation="auto", **kwargs):
        super().__init__(rank, filters=filters, **kwargs)
        self.implementation = _validation.choice(implementation, "implementation", _fft.IMPLEMENTATIONS)

    def weight_shapes(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        shapes = {"kernel": (*self.kernel_size, input_shape[-1], self.filters)}
        if self.use_bias:
            shapes["bias"] = (self.filters,)
        return shapes

    def _apply_kernel(self, inputs):
        kernel = self._oriented(self.kernel, tuple(range(self.rank)))  # (kh, kw, C, F)
        if self._implementation_for(inputs.shape, depthwise=False) == "fft":
            amounts = self._padding_amounts(tuple(inputs.shape))
            return _fft.correlate(inputs, kernel, self.strides, amounts, self.padding_mode, depthwise=False)
        x, padding = self._padded(inputs)
        return ops.conv(x, kernel, strides=self.strides, padding=padding)  # (B, H', W', F)


@keras.saving.register_keras_serializable(package="constrained_layers")
class MultiChannelConv(BaseMultiChannelConv):
    __doc__ = f"""Multi-channel 2D convolution, eq. (7.1.7) of D2L §7.1.

    H[i,j,d] = u_d + Σ_{{a,b,c}} V[a,b,c,d] · X[i+a, j+b, c]. Same weights
    and numerics as `keras.layers.Conv2D`. With `delta=0` it is a per-pixel
    MLP layer (a 1×1 convolution: exercise 1).

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)`.

    Output shape:
        4D tensor `(batch, H', W', filters)`.

    Weights:
        kernel `(kh, kw, C, filters)`; bias `(filters,)`.

    Example:

    >>> layer = MultiChannelConv(filters=16, delta=1)
    >>> layer(np.zeros((2, 28, 28, 3))).shape
    (2, 28, 28, 16)
    >>> layer.kernel.shape
    (3, 3, 3, 16)
    """

    def __init__(
        self,
        filters,
        delta=None,
        kernel_size=None,
        strides=1,
        padding="same",
        padding_mode="zeros",
        convolution=False,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            delta=delta,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            padding_mode=padding_mode,
            convolution=convolution,
            implementation=implementation,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="constrained_layers")
class MultiChannelConv1D(BaseMultiChannelConv):
    __doc__ = f"""Multi-channel 1D convolution, eq. (7.1.7) on sequences.

    H[i,d] = u_d + Σ_{{a,c}} V[a,c,d] · X[i+a, c]. Same weights and numerics
    as `keras.layers.Conv1D`.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)`.

    Output shape:
        3D tensor `(batch, L', filters)`.

    Weights:
        kernel `(k, C, filters)`; bias `(filters,)`.

    Example:

    >>> MultiChannelConv1D(filters=8, delta=2)(np.zeros((2, 40, 1))).shape
    (2, 40, 8)
    """

    def __init__(
        self,
        filters,
        delta=None,
        kernel_size=None,
        strides=1,
        padding="same",
        padding_mode="zeros",
        convolution=False,
        implementation="auto",
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            delta=delta,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            padding_mode=padding_mode,
            convolution=convolution,
            implementation=implementation,
            **kwargs,
        )

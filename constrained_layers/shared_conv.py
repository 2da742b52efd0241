"""SharedConv1D/2D: translation invariance (and locality) on each channel.

    H[i,j,c] = u_c + Σ_{a,b} V_c[a,b] · X[i+a, j+b, c]

Eq. (7.1.3) applied to each channel separately; on one channel it is exactly
(7.1.3). With `delta=None` the window covers the whole image (a, b over
-(H-1)..H-1): translation invariance without locality, eq. (7.1.2).
"""

import keras
from keras import ops

from constrained_layers import _fft, _validation
from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers._fft import IMPLEMENTATION_ARG
from constrained_layers.base import WindowedLayer


class BaseSharedConv(WindowedLayer):
    """Rank-generic per-channel shared convolution; see `SharedConv`."""

    whole_input_window = True
    has_filters = False

    def __init__(self, rank, implementation="auto", **kwargs):
        if "filters" in kwargs:
            raise TypeError(
                f"`{type(self).__name__}` takes no `filters`: it convolves each "
                f"channel with its own kernel, so the output has as many channels "
                f"as the input. Use MultiChannelConv to mix channels. "
                f"Received: filters={kwargs['filters']!r}"
            )
        super().__init__(rank, filters=None, **kwargs)
        self.implementation = _validation.choice(implementation, "implementation", _fft.IMPLEMENTATIONS)

    def _output_channels(self, input_shape):
        return input_shape[-1]

    def weight_shapes(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        shapes = {"kernel": (*self.window_shape(input_shape), input_shape[-1], 1)}
        if self.use_bias:
            shapes["bias"] = (input_shape[-1],)
        return shapes

    def _kernel_fan_axes(self, kernel_shape):
        # One channel's window: fan_in = fan_out = kh·kw (not kh·kw·C).
        window = tuple(range(self.rank))
        return window, window

    def _apply_kernel(self, inputs):
        kernel = self._oriented(self.kernel, tuple(range(self.rank)))  # (kh, kw, C, 1)
        if self._implementation_for(inputs.shape, depthwise=True) == "fft":
            amounts = self._padding_amounts(tuple(inputs.shape))
            return _fft.correlate(inputs, kernel, self.strides, amounts, self.padding_mode, depthwise=True)
        x, padding = self._padded(inputs)
        return ops.depthwise_conv(x, kernel, strides=self.strides, padding=padding)  # (B, H', W', C)


@keras.saving.register_keras_serializable(package="constrained_layers")
class SharedConv(BaseSharedConv):
    __doc__ = f"""Shared 2D convolution of each channel: eq. (7.1.3), per channel.

    H[i,j,c] = u_c + Σ_{{a,b}} V_c[a,b] · X[i+a, j+b, c]: the translation
    invariant (§7.1.2.1) and local (§7.1.2.2) layer of the text, one kernel
    per channel. Same weights and numerics as
    `keras.layers.DepthwiseConv2D(depth_multiplier=1)`.

    Args:
{WINDOW_ARGS}
            Here, unlike the other layers, passing neither (the default)
            gives a whole-image kernel of side 2H-1 × 2W-1: translation
            invariance without locality, eq. (7.1.2).
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)`; H and W must be known for a
        whole-image kernel.

    Output shape:
        4D tensor `(batch, H', W', C)`.

    Weights:
        kernel `(kh, kw, C, 1)`; bias `(C,)`.

    Example:

    >>> layer = SharedConv(delta=2)
    >>> layer(np.zeros((2, 28, 28, 3))).shape
    (2, 28, 28, 3)
    >>> layer.kernel.shape
    (5, 5, 3, 1)
    >>> SharedConv()(np.zeros((1, 28, 28, 1))).shape  # whole-image kernel
    (1, 28, 28, 1)
    """

    def __init__(
        self,
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
class SharedConv1D(BaseSharedConv):
    __doc__ = f"""Shared 1D convolution of each channel: eq. (7.1.3) on sequences.

    H[i,c] = u_c + Σ_a V_c[a] · X[i+a, c]. Same weights and numerics as
    `keras.layers.DepthwiseConv1D(depth_multiplier=1)`.

    Args:
{WINDOW_ARGS}
            Passing neither (the default) gives a whole-sequence kernel of
            length 2L-1: translation invariance without locality.
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)`.

    Output shape:
        3D tensor `(batch, L', C)`.

    Weights:
        kernel `(k, C, 1)`; bias `(C,)`.

    Example:

    >>> SharedConv1D(delta=3)(np.zeros((2, 40, 1))).shape
    (2, 40, 1)
    """

    def __init__(
        self,
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
            delta=delta,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            padding_mode=padding_mode,
            convolution=convolution,
            implementation=implementation,
            **kwargs,
        )

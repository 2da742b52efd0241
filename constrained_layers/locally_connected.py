"""LocallyConnected1D/2D: locality without weight sharing.

    H[i,j,d] = U[i,j,d] + Σ_{|a|,|b|≤Δ, c} V[i,j,a,b,c,d] · X[i+a, j+b, c]

Eq. (7.1.1) restricted to a window of half-width Δ but, unlike (7.1.3), with
its own kernel at every output position: a convolution's connectivity with a
fully connected layer's freedom. The weights have tf-keras's
`LocallyConnected2D(implementation=1)` layout, so they move between the two.
"""

import keras
from keras import ops

from constrained_layers import _boundary
from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers.base import WindowedLayer, prod, window_offsets


class BaseLocallyConnected(WindowedLayer):
    """Rank-generic locally connected layer; see `LocallyConnected`."""

    needs_spatial_size = True

    def __init__(self, rank, filters, **kwargs):
        super().__init__(rank, filters=filters, **kwargs)

    def weight_shapes(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        out = self._output_spatial(input_shape)
        taps = prod(self.kernel_size) * input_shape[-1]
        shapes = {"kernel": (prod(out), taps, self.filters)}
        if self.use_bias:
            shapes["bias"] = (*out, self.filters)
        return shapes

    def _kernel_fan_axes(self, kernel_shape):
        # Each position's kernel alone: fan_in = kh·kw·C, fan_out = filters.
        return (1,), (2,)

    def _apply_kernel(self, inputs):
        x, _ = self._padded(inputs, native_zeros=False)  # (B, H+pad, W+pad, C)
        out = self._output_spatial(inputs.shape)
        channels = inputs.shape[-1]
        # One strided view of the input per kernel tap, row-major over the
        # window: the (kh, kw, C) patch order of tf-keras's layout.
        taps = [
            _boundary.strided_window(x, offset, self.strides, out)  # (B, H', W', C)
            for offset in window_offsets(self.kernel_size)
        ]
        patches = ops.stack(taps, axis=-2)  # (B, H', W', kh·kw, C)
        patches = ops.reshape(patches, (-1, prod(out), len(taps) * channels))  # (B, P, kh·kw·C)
        y = ops.einsum("bpk,pkf->bpf", patches, self._oriented_kernel(channels))  # (B, P, F)
        return ops.reshape(y, (-1, *out, self.filters))  # (B, H', W', F)

    def _oriented_kernel(self, channels):
        if not self.convolution:
            return self.kernel
        positions = self.kernel.shape[0]
        kernel = ops.reshape(self.kernel, (positions, *self.kernel_size, channels, self.filters))
        kernel = self._oriented(kernel, tuple(range(1, self.rank + 1)))
        return ops.reshape(kernel, self.kernel.shape)


@keras.saving.register_keras_serializable(package="constrained_layers")
class LocallyConnected(BaseLocallyConnected):
    __doc__ = f"""Locally connected 2D layer: locality without weight sharing.

    H[i,j,d] = U[i,j,d] + Σ_{{|a|,|b|≤Δ, c}} V[i,j,a,b,c,d] · X[i+a, j+b, c]:
    the locality of D2L §7.1.2.2 without the translation invariance of
    §7.1.2.1. Same shapes and numerics as tf-keras's
    `LocallyConnected2D(implementation=1)` (which Keras 3 dropped), and in
    addition "same" padding, every padding mode and `convolution=True`.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)` with H, W and C known.

    Output shape:
        4D tensor `(batch, H', W', filters)`; with padding="same",
        H' = ceil(H / stride).

    Weights:
        kernel `(H'·W', kh·kw·C, filters)`, the patch flattened in (row,
        column, channel) order; bias `(H', W', filters)`.

    Example:

    >>> layer = LocallyConnected(filters=8, delta=1)
    >>> layer(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> layer.kernel.shape
    (784, 9, 8)
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
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="constrained_layers")
class LocallyConnected1D(BaseLocallyConnected):
    __doc__ = f"""Locally connected 1D layer: locality without weight sharing.

    H[i,d] = U[i,d] + Σ_{{|a|≤Δ, c}} V[i,a,c,d] · X[i+a, c]. Same shapes and
    numerics as tf-keras's `LocallyConnected1D(implementation=1)`.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)` with L and C known.

    Output shape:
        3D tensor `(batch, L', filters)`.

    Weights:
        kernel `(L', k·C, filters)`; bias `(L', filters)`.

    Example:

    >>> LocallyConnected1D(filters=4, delta=2)(np.zeros((3, 40, 1))).shape
    (3, 40, 4)
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
            **kwargs,
        )

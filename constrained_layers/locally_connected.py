"""LocallyConnected1D/2D: locality without weight sharing.

    H[i,j,d] = U[i,j,d] + Σ_{|a|,|b|≤Δ, c} V[i,j,a,b,c,d] · X[i+a, j+b, c]

Eq. (7.1.1) restricted to a window of half-width Δ but, unlike (7.1.3), with
its own kernel at every output position: a convolution's connectivity with a
fully connected layer's freedom. The weights have tf-keras's
`LocallyConnected2D(implementation=1)` layout, so they move between the two.

How it is computed: `_gather.py` (the fast path and why it is fast).
"""

import math

import keras
from keras import ops

from constrained_layers import _boundary, _gather
from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers.windowed import WindowedLayer, window_offsets

class BaseLocallyConnected(WindowedLayer):
    """Rank-generic locally connected layer; see `LocallyConnected`.

    The public layers fix `rank` (a class attribute) and carry the
    docstring; the arguments are these, as `WindowedLayer` normalizes them.
    """

    needs_spatial_size = True

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
            **kwargs,
        )

    def _weight_shapes(self, input_shape):
        out = self._output_spatial(input_shape)
        taps = math.prod(self.kernel_size) * input_shape[-1]
        shapes = {"kernel": (math.prod(out), taps, self.filters)}
        if self.use_bias:
            shapes["bias"] = (*out, self.filters)
        return shapes

    def _kernel_fan_view(self, kernel_shape):
        # As the convolution of the same window, whose kernel each position
        # has its own copy of: fan_in = kh·kw·C, fan_out = kh·kw·filters.
        # Then at initialization LocallyConnected and MultiChannelConv differ
        # only in sharing.
        positions, _, filters = kernel_shape
        taps = math.prod(self.kernel_size)
        return (positions, taps, kernel_shape[1] // taps, filters), (1, 2), (1, 3)

    def _plan_for(self, input_shape):
        """The `_gather._Plan` (gather tables) for channels-last inputs of `input_shape`."""
        amounts = tuple(tuple(pair) for pair in self._padding_amounts(input_shape))
        return _gather.plan(
            tuple(input_shape[1:-1]),
            self._output_spatial(input_shape),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            amounts,
            self.padding_mode,
            self.convolution,
        )

    def _kernel_blocks(self, plan, channels):
        """The kernel as one (C, F) block per (position, tap): (P, T, C, F).

        A reshape of the variable here, outside the custom gradient (which
        only differentiates tensors). Subclasses that store the weights in
        another layout (`constrained_layers.compat`) convert here.
        """
        return ops.reshape(self.kernel, (plan.positions, plan.taps, channels, self.filters))

    def _apply_kernel(self, inputs):
        input_shape = tuple(inputs.shape)
        plan = self._plan_for(input_shape)
        blocks = self._kernel_blocks(plan, input_shape[-1])  # (P, T, C, F)
        return _gather.locally_connected_op(inputs, blocks, plan, self._output_spatial(input_shape))  # (B, *out, F)

    def _apply_kernel_patches(self, inputs):
        """The readable path (and the old one): stack the taps, then einsum.

        Materializes the patches (B, P, kh·kw·C); `_apply_kernel` computes
        the same numbers without them. Kept for reading and for the
        benchmark's "before" column. `inputs` are channels-last.
        """
        x, _ = self._padded(inputs, native=False)  # (B, H+pad, W+pad, C)
        out = self._output_spatial(inputs.shape)
        channels = inputs.shape[-1]
        # One strided view of the input per kernel tap, row-major over the
        # window: the (kh, kw, C) patch order of tf-keras's layout.
        taps = [
            _boundary.strided_window(x, [d * o for d, o in zip(self.dilation_rate, offset)], self.strides, out)
            for offset in window_offsets(self.kernel_size)
        ]  # each (B, H', W', C)
        patches = ops.stack(taps, axis=-2)  # (B, H', W', kh·kw, C)
        patches = ops.reshape(patches, (-1, math.prod(out), len(taps) * channels))  # (B, P, kh·kw·C)
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
    §7.1.2.1. The arguments of `MultiChannelConv` (and so of
    `keras.layers.Conv2D`) with one kernel per output position: the same
    weights and numerics as tf-keras's `LocallyConnected2D(implementation=1)`
    (which Keras 3 dropped; `constrained_layers.compat` reads its models),
    and in addition "same" padding, dilation, every padding mode and
    `convolution=True`. At initialization a variance-scaling kernel has the
    fans of the convolution of the same window (kh·kw·C in, kh·kw·filters
    out), so that it differs from `MultiChannelConv` only in sharing.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)` (channels_first: `(batch, C, H, W)`)
        with H, W and C known.

    Output shape:
        4D tensor `(batch, H', W', filters)` (channels_first:
        `(batch, filters, H', W')`); with padding="same",
        H' = ceil(H / stride).

    Weights (whatever the `data_format`):
        kernel `(H'·W', kh·kw·C, filters)`, one row per output position
        (row-major), the patch flattened in (row, column, channel) order;
        bias `(H', W', filters)`.

    Example:

    >>> layer = LocallyConnected(8, 3)
    >>> layer(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> layer.kernel.shape
    (784, 9, 8)
    """

    rank = 2


@keras.saving.register_keras_serializable(package="constrained_layers")
class LocallyConnected1D(BaseLocallyConnected):
    __doc__ = f"""Locally connected 1D layer: locality without weight sharing.

    H[i,d] = U[i,d] + Σ_{{|a|≤Δ, c}} V[i,a,c,d] · X[i+a, c]. The arguments
    of `MultiChannelConv1D` (and `keras.layers.Conv1D`, "causal" included)
    with one kernel per output position; same weights and numerics as
    tf-keras's `LocallyConnected1D(implementation=1)`.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)` (channels_first: `(batch, C, L)`) with L
        and C known.

    Output shape:
        3D tensor `(batch, L', filters)` (channels_first:
        `(batch, filters, L')`).

    Weights (whatever the `data_format`):
        kernel `(L', k·C, filters)`, the patch in (tap, channel) order;
        bias `(L', filters)`.

    Example:

    >>> LocallyConnected1D(4, 5)(np.zeros((3, 40, 1))).shape
    (3, 40, 4)
    """

    rank = 1

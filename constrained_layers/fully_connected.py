"""FullyConnected1D/2D: every hidden pixel sees every input pixel (§7.1.1).

    H[i,j,d] = U[i,j,d] + Σ_{k,l,c} W[i,j,k,l,c,d] · X[k,l,c]

the 4th-order weight tensor of the text (with channels added), before any
constraint. For a 1000×1000 image that is 10^12 weights: the layer refuses to
allocate past `max_params` and says how large the kernel would be.
"""

import math
import keras
from keras import ops

from constrained_layers import _validation
from constrained_layers._docs import COMMON_ARGS
from constrained_layers._sizes import format_bytes
from constrained_layers.base import ConstrainedLayer

DEFAULT_MAX_PARAMS = 100_000_000  # 400 MB of float32


class BaseFullyConnected(ConstrainedLayer):
    """Rank-generic fully connected layer on a grid; see `FullyConnected2D`.

    The public layers fix `rank` (a class attribute) and carry the docstring.
    """

    needs_spatial_size = True

    def __init__(self, filters, output_size=None, max_params=DEFAULT_MAX_PARAMS, data_format=None, **kwargs):
        super().__init__(self.rank, filters=filters, data_format=data_format, **kwargs)
        self.output_size = None if output_size is None else _validation.int_tuple(output_size, self.rank,
                                                                                   "output_size", 1)
        self.max_params = _validation.positive_int(max_params, "max_params")

    def _output_spatial(self, input_shape):
        return self.output_size if self.output_size is not None else tuple(input_shape[1:-1])

    def _weight_shapes(self, input_shape):
        out = self._output_spatial(input_shape)
        shapes = {"kernel": (*input_shape[1:], *out, self.filters)}
        if self.use_bias:
            shapes["bias"] = (*out, self.filters)
        return shapes

    def _kernel_fan_view(self, kernel_shape):
        # As Dense on the flattened input: fan_in = H·W·C, fan_out = H'·W'·F.
        n_in = self.rank + 1
        return kernel_shape, tuple(range(n_in)), tuple(range(n_in, len(kernel_shape)))

    def _check_size(self, input_shape, shapes):
        total = sum(math.prod(s) for s in shapes.values())
        if total > self.max_params:
            raise ValueError(
                f"`{type(self).__name__}` would need {total:,} parameters "
                f"({format_bytes(4 * total)} as float32) for input_shape="
                f"{tuple(input_shape)}, output_size={self._output_spatial(input_shape)} "
                f"and filters={self.filters}: kernel {shapes['kernel']}. That exceeds "
                f"max_params={self.max_params:,}. Impose locality (LocallyConnected) "
                f"or translation invariance (SharedConv, MultiChannelConv), or raise "
                f"`max_params` if you really mean it."
            )

    def _apply_kernel(self, inputs):
        in_spatial = inputs.shape[1:-1]
        out = self._output_spatial(inputs.shape)
        n_in = math.prod(in_spatial) * inputs.shape[-1]
        n_out = math.prod(out) * self.filters
        x = ops.reshape(inputs, (-1, n_in))  # (B, H·W·C)
        w = ops.reshape(self.kernel, (n_in, n_out))  # (H·W·C, H'·W'·F)
        y = ops.matmul(x, w)  # (B, H'·W'·F)
        return ops.reshape(y, (-1, *out, self.filters))  # (B, H', W', F)

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "max_params": self.max_params})
        return config


@keras.saving.register_keras_serializable(package="constrained_layers")
class FullyConnected2D(BaseFullyConnected):
    __doc__ = f"""Fully connected layer on images, eq. (7.1.1) of D2L §7.1.

    H[i,j,d] = U[i,j,d] + Σ_{{k,l,c}} W[i,j,k,l,c,d] · X[k,l,c]: every output
    pixel (i, j) has its own weights for every input pixel (k, l). The kernel
    reshaped to (H·W·C, H'·W'·filters) is the kernel of `keras.layers.Dense`
    applied to the flattened input, so weights move between the two.

    Args:
        filters: number of output channels d.
        output_size: spatial size (H', W') of the output, an int or a tuple
            of 2 ints. Default: the input's (H, W).
        max_params: the largest number of parameters the layer agrees to
            allocate. Building past it raises a `ValueError` quoting the count
            and bytes. Default: 100,000,000 (400 MB of float32).
        data_format: "channels_last" or "channels_first". Default:
            `keras.config.image_data_format()`. The kernel's layout does not
            depend on it; with "channels_first" the layer equals
            `Flatten(data_format="channels_first")`, `Dense`, and the output
            reshaped to (H', W', filters) and moved channels-first.
{COMMON_ARGS}
    Input shape:
        4D tensor `(batch, H, W, C)` (channels_first: `(batch, C, H, W)`)
        with H, W and C known.

    Output shape:
        4D tensor `(batch, H', W', filters)`.

    Weights:
        kernel `(H, W, C, H', W', filters)`; bias `(H', W', filters)`.

    Raises:
        ValueError: invalid arguments, inputs of the wrong rank or of unknown
            spatial size, or more than `max_params` parameters.

    Example:

    >>> layer = FullyConnected2D(filters=4)
    >>> layer(np.zeros((2, 8, 8, 3))).shape
    (2, 8, 8, 4)
    >>> layer.kernel.shape
    (8, 8, 3, 8, 8, 4)
    """

    rank = 2


@keras.saving.register_keras_serializable(package="constrained_layers")
class FullyConnected1D(BaseFullyConnected):
    __doc__ = f"""Fully connected layer on sequences, eq. (7.1.1) with one axis.

    H[i,d] = U[i,d] + Σ_{{k,c}} W[i,k,c,d] · X[k,c]. The kernel reshaped to
    (L·C, L'·filters) is the kernel of `keras.layers.Dense` on the flattened
    input.

    Args:
        filters: number of output channels d.
        output_size: length L' of the output. Default: the input's length L.
        max_params: the largest number of parameters the layer agrees to
            allocate. Default: 100,000,000.
        data_format: "channels_last" or "channels_first". Default:
            `keras.config.image_data_format()`. The kernel's layout does not
            depend on it.
{COMMON_ARGS}
    Input shape:
        3D tensor `(batch, L, C)` (channels_first: `(batch, C, L)`) with L
        and C known.

    Output shape:
        3D tensor `(batch, L', filters)`.

    Weights:
        kernel `(L, C, L', filters)`; bias `(L', filters)`.

    Example:

    >>> FullyConnected1D(filters=2)(np.zeros((5, 40, 1))).shape
    (5, 40, 2)
    """

    rank = 1

"""`BaseLocallyConnectedCompat`: the native locally connected layer with tf-keras's arguments and layouts.

The rank-generic base of `compat.LocallyConnected1D/2D` (see
`constrained_layers.compat`): tf-keras's keywords, its "same" padding and
its weight layouts (`_tf_keras_layout`), on the native fast path.
"""

import numpy as np
from keras import ops

from constrained_layers import _tf_keras_layout, _validation
from constrained_layers.locally_connected import BaseLocallyConnected

IMPLEMENTATIONS = (1, 2, 3)
#: The keywords tf-keras's LocallyConnected1D/2D take besides `filters`,
#: `kernel_size`, `strides`, `padding`, `data_format` and `implementation`:
#: their own, then its base `Layer`'s that Keras 3's `Layer` takes too.
TF_KERAS_KEYWORDS = (
    "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "activity_regularizer", "kernel_constraint", "bias_constraint",
    "name", "dtype", "trainable", "autocast", "input_shape", "input_dim",
)
#: tf-keras's base `Layer` takes these as well; Keras 3's `Layer` decides
#: (it refuses them, naming them).
TF_KERAS_ONLY_KEYWORDS = ("batch_input_shape", "batch_size", "weights", "dynamic")
#: The native layers' arguments that tf-keras's do not have.
NATIVE_ONLY_KEYWORDS = ("delta", "padding_mode", "convolution", "dilation_rate")


class BaseLocallyConnectedCompat(BaseLocallyConnected):
    """Rank-generic tf-keras locally connected layer; see `LocallyConnected2D`.

    The native layer with tf-keras's arguments, its "same" padding, its
    weight layouts (`_weight_shapes`, `_kernel_blocks`, `_call_bias`) and
    its config keys; everything else (validation, data format, the fast
    path, the gradient) is the native layer's.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, implementation=1,
                 **kwargs):
        rank = self.rank  # fixed by the public class
        for key, value in kwargs.items():
            if key not in TF_KERAS_KEYWORDS + TF_KERAS_ONLY_KEYWORDS:
                # As tf-keras (a TypeError), so nothing is accepted that its config would not keep.
                native = "LocallyConnected" if rank == 2 else "LocallyConnected1D"
                hint = (f" The native `constrained_layers.{native}` takes `{key}`."
                        if key in NATIVE_ONLY_KEYWORDS else "")
                raise TypeError(
                    f"Keyword argument not understood: `{key}`. Received: {key}={value!r}. "
                    f"`compat.LocallyConnected{rank}D` takes tf-keras's arguments only.{hint}"
                )
        if not (_validation._is_int(implementation) and implementation in IMPLEMENTATIONS):
            raise ValueError(
                f"Invalid value for argument `implementation`. Expected one of "
                f"{list(IMPLEMENTATIONS)}. Received: implementation={implementation!r}"
            )
        padding = _validation.choice(padding, "padding", _validation.PADDINGS[:2])
        if padding != "valid" and implementation == 1:
            raise ValueError(
                f"Invalid value for argument `padding`. `{type(self).__name__}` with "
                f"implementation=1 supports only padding='valid' (as in tf-keras; "
                f"implementations 2 and 3 also allow 'same'). Received: padding={padding!r}"
            )
        super().__init__(filters, kernel_size, strides, padding, data_format, **kwargs)
        self.implementation = int(implementation)

    def _padding_amounts(self, input_shape):
        return [
            _tf_keras_layout.tf_keras_padding(n, k, s, self.padding)
            for n, k, s in zip(input_shape[1:-1], self.kernel_size, self.strides)
        ]

    def _weight_shapes(self, input_shape):
        spatial, channels = tuple(input_shape[1:-1]), input_shape[-1]
        out = self._output_spatial(input_shape)
        if self.implementation == 1:
            kernel = (int(np.prod(out)), int(np.prod(self.kernel_size)) * channels, self.filters)
        elif self.implementation == 2:
            if self._channels_first:
                kernel = (channels, *spatial, self.filters, *out)
            else:
                kernel = (*spatial, channels, *out, self.filters)
        else:  # the connected entries only
            plan = self._plan_for(input_shape)
            kernel = (int((plan.gather < plan.pixels).sum()) * channels * self.filters,)
        shapes = {"kernel": kernel}
        if self.use_bias:
            shapes["bias"] = (*out, self.filters)
        return shapes

    def _kernel_fan_view(self, kernel_shape):
        return None  # tf-keras's initializers saw its kernel's shape, and so do these

    def _kernel_blocks(self, plan, channels):
        if self.implementation == 1:
            if not self._channels_first:
                return ops.reshape(self.kernel, (plan.positions, plan.taps, channels, self.filters))
            blocks = ops.reshape(self.kernel, (plan.positions, channels, plan.taps, self.filters))  # patch (C, kh, kw)
            return ops.transpose(blocks, (0, 2, 1, 3))
        index, _ = _tf_keras_layout.kernel_index(self.implementation, self.data_format, plan, channels, self.filters)
        flat = ops.reshape(self.kernel, (-1,))
        if plan.reads_zero:  # the entry past the end: taps in the padding
            flat = ops.concatenate([flat, ops.zeros((1,), dtype=flat.dtype)])
        return ops.take(flat, index, axis=0)  # (P, T, C, F)

    def _call_bias(self):
        if not self._channels_first:
            return self.bias
        # tf-keras's bias_add *reshapes* (not transposes) (*out, F) to (F, *out).
        bias = ops.reshape(self.bias, (self.bias.shape[-1], *self.bias.shape[:-1]))
        return ops.transpose(bias, (*range(1, self.rank + 1), 0))

    def get_config(self):
        """tf-keras's keys, no others (and `autocast` when it is False, which tf-keras takes)."""
        config = super().get_config()
        for key in NATIVE_ONLY_KEYWORDS:  # their defaults: the constructor takes no other value
            config.pop(key, None)
        config.pop("autocast", None)
        if not self.autocast:
            config["autocast"] = False
        config["implementation"] = self.implementation
        return config

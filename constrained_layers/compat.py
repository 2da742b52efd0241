"""tf-keras's LocallyConnected1D/2D for Keras 3: load old models, then go native.

Keras 3 dropped `LocallyConnected1D/2D`, so a tf-keras `.h5` model that uses
them no longer loads. The two classes here take tf-keras's exact arguments
and defaults and hold their weights in tf-keras's layout for each
`implementation` (1, 2 or 3) and `data_format`, so that

    keras.models.load_model("old.h5", custom_objects=compat.custom_objects())

fills them from the file as it is, and `layer.set_weights(tf_keras_layer.
get_weights())` works both ways. Whatever the implementation, they compute
with the native fast path (`locally_connected_op`): the kernel is turned into
its (P, T, C, F) blocks (P output positions, T = kh·kw taps, C input
channels, F filters) inside `call`, by a reshape or a gather with an index
table computed once at build:

- implementation 1: kernel (P, kh·kw·C, F), the patch flattened in (kh, kw, C)
  order for channels_last (a reshape: the native layout) and (C, kh, kw) for
  channels_first (a reshape and a transpose);
- implementation 2: the dense kernel (H, W, C, H', W', F) for channels_last,
  (C, H, W, F, H', W') for channels_first, of which only the connected
  entries are used (tf-keras multiplies the rest by a mask): gathered;
- implementation 3: the vector of the connected entries in the order of
  tf-keras's sorted (output index, input index) pairs: gathered.

The bias is (H', W', F) in every case; for channels_first tf-keras *reshapes*
it (does not transpose it) to (F, H', W') before adding it, and so does this
layer. tf-keras's padding="same" (implementations 2 and 3 only) puts k // 2
zeros before the input whatever the stride, where Keras's "same" (and the
native layers') centres the window: the two agree for odd kernels with
stride 1, not always otherwise; the index table follows tf-keras.

`to_native(layer)` gives the equivalent native layer with converted weights
(`python -m constrained_layers.migrate old.h5 new.keras` does it for a whole
model).
"""

import functools

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers

from constrained_layers import _validation
from constrained_layers.locally_connected import BaseLocallyConnected, LocallyConnected
from constrained_layers.locally_connected import LocallyConnected1D as NativeLocallyConnected1D

__all__ = ["LocallyConnected1D", "LocallyConnected2D", "custom_objects", "to_native"]

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


# --------------------------------------------------------------- index tables
def _tf_keras_padding(n, kernel, stride, padding):
    """(before, after) zeros that tf-keras's locally connected layers read.

    "valid": none. "same" (`conv_utils.conv_connected_inputs`): output i
    reads inputs i·stride - k//2 ... i·stride - k//2 + k - 1, i.e. k // 2
    zeros before whatever the stride, and as many after as the last window
    needs. (Keras's "same" splits (out-1)·stride + k - n zeros, the extra one
    after.)
    """
    if padding == "valid":
        return (0, 0)
    out = -(-n // stride)
    before = kernel // 2
    return (before, max(0, (out - 1) * stride + kernel - before - n))


@functools.lru_cache(maxsize=32)
def _kernel_index(implementation, data_format, plan, channels, filters):
    """Where each (position, tap, channel, filter) block entry is in the kernel.

    Args:
        implementation: 2 or 3 (implementation 1 is a reshape).
        data_format: "channels_last" or "channels_first".
        plan: the native `_Plan` of the layer and input shape: its `gather`
            (P, T) is the input pixel each (position, tap) reads, `pixels`
            (Q) for a tap in the zero padding.
        channels, filters: C and F.

    Returns:
        (index, size): int32 (P, T, C, F) indices into the flattened kernel
        (of `size` entries), with `size` (one past the end: a zero appended
        to the kernel) for the entries that read the padding.
    """
    gather, pixels = plan.gather, plan.pixels
    positions, taps = gather.shape
    p = np.arange(positions)[:, None, None, None]
    q = gather.astype(np.int64)[:, :, None, None]
    c = np.arange(channels)[None, None, :, None]
    f = np.arange(filters)[None, None, None, :]
    shape = (positions, taps, channels, filters)
    connected = np.broadcast_to(q < pixels, shape)
    if implementation == 2:
        size = pixels * channels * positions * filters
        if data_format == "channels_last":  # (*in, C, *out, F)
            flat = ((q * channels + c) * positions + p) * filters + f
        else:  # (C, *in, F, *out)
            flat = ((c * pixels + q) * filters + f) * positions + p
        flat = np.broadcast_to(flat, shape)
    elif implementation == 3:
        # A sparse (P·F, Q·C) matrix; the values ordered by sorted
        # (output index, input index), in the data format's flat order.
        if data_format == "channels_last":
            out_index, in_index = p * filters + f, q * channels + c
        else:
            out_index, in_index = f * positions + p, c * pixels + q
        key = np.broadcast_to(out_index * (pixels * channels) + in_index, shape)[connected]
        size = key.size
        flat = np.empty(shape, np.int64)
        flat[connected] = np.argsort(np.argsort(key, kind="stable"), kind="stable")
    else:
        raise ValueError(f"No index table for implementation={implementation!r}")
    index = np.where(connected, flat, size)
    return index.astype(np.int32), size


# --------------------------------------------------------------------- layers
class BaseLocallyConnectedCompat(BaseLocallyConnected):
    """Rank-generic tf-keras locally connected layer; see `LocallyConnected2D`.

    The native layer with tf-keras's arguments, its "same" padding, its
    weight layouts (`_weight_shapes`, `_kernel_blocks`, `_call_bias`) and
    its config keys; everything else (validation, data format, the fast
    path, the gradient) is the native layer's.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 implementation=1, **kwargs):
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
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, **kwargs)
        self.implementation = int(implementation)

    def _padding_amounts(self, input_shape):
        return [
            _tf_keras_padding(n, k, s, self.padding)
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
        index, _ = _kernel_index(self.implementation, self.data_format, plan, channels, self.filters)
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


_DOC = """tf-keras's `LocallyConnected{rank}D`, for loading old models into Keras 3.

    Same arguments, defaults, weight shapes and outputs as tf-keras's layer
    (within float32 rounding), for implementation 1, 2 and 3 and both data
    formats; computed with the native fast path whatever the implementation.
    Use it to load a tf-keras model (`custom_objects()`), then `to_native`
    (or `python -m constrained_layers.migrate`) to move to
    `constrained_layers.{native}`.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of {rank} ints, the window.
        strides: int or tuple of {rank} ints.
        padding: "valid" (default) or, with implementation 2 or 3, "same"
            (tf-keras's: k // 2 zeros before the input whatever the stride).
        data_format: "channels_last" or "channels_first"; None is Keras's
            `image_data_format()`.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as in tf-keras (initializers see
        tf-keras's kernel shape, as tf-keras's did).
        implementation: 1, 2 or 3: which tf-keras weight layout to hold.

    Input shape:
        {in_shape} (channels_last) or with the channels first.

    Output shape:
        {out_shape} (channels_last) or with the filters first.

    Weights:
        kernel: implementation 1 {kernel1}; 2 {kernel2}; 3 (connected
        entries,). bias: {bias} for either data format.

    Raises:
        ValueError: an invalid argument (named, with the value received);
            padding="same" with implementation=1, as tf-keras.
        TypeError: a keyword tf-keras's layer does not take (as tf-keras),
            such as the native layer's `delta`, `padding_mode`,
            `convolution` and `dilation_rate`, which its config would lose.

    Example:

    >>> layer = LocallyConnected{rank}D(4, 3, implementation=2)
    >>> tuple(layer(np.zeros({example})).shape)
    {example_out}
    """


@keras.saving.register_keras_serializable(package="constrained_layers.compat")
class LocallyConnected2D(BaseLocallyConnectedCompat):
    __doc__ = _DOC.format(
        rank=2,
        native="LocallyConnected",
        in_shape="(batch, H, W, C)",
        out_shape="(batch, H', W', filters)",
        kernel1="(H'·W', kh·kw·C, filters)",
        kernel2="(H, W, C, H', W', filters) or, channels_first, (C, H, W, filters, H', W')",
        bias="(H', W', filters)",
        example="(2, 6, 6, 1)",
        example_out="(2, 4, 4, 4)",
    )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        implementation=1,
        **kwargs,
    ):
        super().__init__(
            2,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            implementation=implementation,
            **kwargs,
        )


@keras.saving.register_keras_serializable(package="constrained_layers.compat")
class LocallyConnected1D(BaseLocallyConnectedCompat):
    __doc__ = _DOC.format(
        rank=1,
        native="LocallyConnected1D",
        in_shape="(batch, L, C)",
        out_shape="(batch, L', filters)",
        kernel1="(L', k·C, filters)",
        kernel2="(L, C, L', filters) or, channels_first, (C, L, filters, L')",
        bias="(L', filters)",
        example="(2, 6, 1)",
        example_out="(2, 4, 4)",
    )

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        implementation=1,
        **kwargs,
    ):
        super().__init__(
            1,
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
            implementation=implementation,
            **kwargs,
        )


def custom_objects():
    """The `custom_objects` that load tf-keras models with locally connected layers.

    Example:

    >>> sorted(custom_objects())
    ['LocallyConnected1D', 'LocallyConnected2D']

    `keras.models.load_model("old.h5", custom_objects=custom_objects())`
    """
    return {"LocallyConnected1D": LocallyConnected1D, "LocallyConnected2D": LocallyConnected2D}


# ----------------------------------------------------------------- to native
def _keras_same_before(n, kernel, stride):
    """Zeros Keras's (and the native layers') padding="same" puts before."""
    out = -(-n // stride)
    return max((out - 1) * stride + kernel - n, 0) // 2


def to_native(layer):
    """The native layer that computes what a built compat `layer` computes.

    Returns `constrained_layers.LocallyConnected` (2D) or
    `LocallyConnected1D` with the same arguments and the weights converted
    to its layout (implementation 1's, channels-last patch order; the bias
    as added to the channels-last output), built for the same input shape.
    Where tf-keras's padding="same" places its zeros differently from
    Keras's "same" (an even kernel or a stride > 1 can), the result is a
    `keras.Sequential` named as `layer`: `ZeroPadding1D/2D` with tf-keras's
    amounts, then the native layer with padding="valid".

    Raises:
        TypeError: `layer` is not one of this module's layers.
        ValueError: `layer` is not built (its weights' shapes depend on
            the input's).

    Example:

    >>> old = LocallyConnected2D(4, 3, implementation=3)
    >>> _ = old(np.zeros((1, 6, 6, 2)))
    >>> new = to_native(old)
    >>> type(new).__name__, tuple(new.kernel.shape)
    ('LocallyConnected', (16, 18, 4))
    """
    if not isinstance(layer, BaseLocallyConnectedCompat):
        raise TypeError(
            "`to_native` converts `constrained_layers.compat.LocallyConnected1D/2D`. "
            f"Received: layer of type {type(layer).__name__}"
        )
    if not layer.built:
        raise ValueError(
            f"`to_native` needs a built layer (its weights' shapes depend on the "
            f"input's): call it on an input first. Received: layer {layer.name!r}, not built"
        )
    native_class = LocallyConnected if layer.rank == 2 else NativeLocallyConnected1D
    # The input shape the layer was built for, from the sizes its InputSpec pins.
    axes = layer.input_spec.axes  # the channel axis is -1 for channels_last, as in Keras
    input_shape = (None, *(axes[axis] if axis in axes else axes[-1] for axis in range(1, layer.rank + 2)))
    shape = layer._channels_last_shape(input_shape)  # (None, *spatial, C)
    spatial = shape[1:-1]
    amounts = layer._padding_amounts(shape)
    same_agrees = all(
        before == _keras_same_before(n, k, s)
        for (before, _), n, k, s in zip(amounts, spatial, layer.kernel_size, layer.strides)
    )
    padding = layer.padding if layer.padding == "valid" or same_agrees else "valid"
    native = native_class(
        filters=layer.filters,
        kernel_size=layer.kernel_size,
        strides=layer.strides,
        padding=padding,
        data_format=layer.data_format,
        activation=activations.serialize(layer.activation),
        use_bias=layer.use_bias,
        kernel_initializer=initializers.serialize(layer.kernel_initializer),
        bias_initializer=initializers.serialize(layer.bias_initializer),
        kernel_regularizer=regularizers.serialize(layer.kernel_regularizer),
        bias_regularizer=regularizers.serialize(layer.bias_regularizer),
        activity_regularizer=regularizers.serialize(layer.activity_regularizer),
        kernel_constraint=constraints.serialize(layer.kernel_constraint),
        bias_constraint=constraints.serialize(layer.bias_constraint),
        dtype=layer.dtype_policy,
        name=layer.name if padding == layer.padding else f"{layer.name}_valid",
        trainable=layer.trainable,
    )
    if padding == layer.padding:
        result = native
    else:
        pad_class = keras.layers.ZeroPadding2D if layer.rank == 2 else keras.layers.ZeroPadding1D
        pad_amounts = tuple(amounts) if layer.rank == 2 else amounts[0]
        pad = pad_class(pad_amounts, data_format=layer.data_format, name=f"{layer.name}_padding")
        result = keras.Sequential([pad, native], name=layer.name, trainable=layer.trainable)
    result.build(input_shape)
    blocks = ops.convert_to_numpy(layer._kernel_blocks(layer._plan_for(shape), shape[-1]))  # (P, T, C, F)
    native.kernel.assign(blocks.reshape(native.kernel.shape))
    if layer.use_bias:
        native.bias.assign(np.reshape(ops.convert_to_numpy(layer._call_bias()), native.bias.shape))
    return result

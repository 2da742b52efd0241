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

import inspect

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers
from keras.layers import InputSpec

from constrained_layers import locally_connected
from constrained_layers.locally_connected import LocallyConnected, LocallyConnected1D as NativeLocallyConnected1D

__all__ = ["LocallyConnected1D", "LocallyConnected2D", "custom_objects", "to_native"]

IMPLEMENTATIONS = (1, 2, 3)
PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_last", "channels_first")


# ----------------------------------------------------------------- validation
def _int_tuple(value, rank, name):
    """An int or `rank` ints, each > 0, as a tuple (tf-keras's normalize_tuple)."""
    items = (value,) * rank if _is_int(value) else value
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or len(items) != rank or not all(_is_int(v) and v > 0 for v in items):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive "
            f"int or a tuple of {rank} strictly positive ints. Received: {name}={value!r}"
        )
    return tuple(int(v) for v in items)


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _choice(value, name, allowed):
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of {list(allowed)}. "
            f"Received: {name}={value!r}"
        )
    return value.lower()


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


def _tf_keras_output_length(n, kernel, stride, padding):
    """tf-keras's `conv_output_length` for "valid" and "same"."""
    length = n if padding == "same" else n - kernel + 1
    return -(-length // stride)


def _make_plan(in_spatial, out_spatial, window, strides, amounts):
    """The native `_plan` for these tf-keras paddings (no dilation, zeros)."""
    kwargs = dict(
        in_spatial=in_spatial,
        out_spatial=out_spatial,
        window=window,
        strides=strides,
        amounts=amounts,
        padding_mode="zeros",
        convolution=False,
    )
    if "dilation" in inspect.signature(locally_connected._plan).parameters:
        kwargs["dilation"] = (1,) * len(window)
    return locally_connected._plan(**kwargs)


def _kernel_index(implementation, data_format, gather, pixels, channels, filters):
    """Where each (position, tap, channel, filter) block entry is in the kernel.

    Args:
        implementation: 2 or 3 (implementation 1 is a reshape).
        data_format: "channels_last" or "channels_first".
        gather: int (P, T), the input pixel that each (position, tap) reads
            (`pixels` for a tap in the zero padding), as `_Plan.gather`.
        pixels: number of input pixels Q.
        channels, filters: C and F.

    Returns:
        (index, size): int32 (P, T, C, F) indices into the flattened kernel
        (of `size` entries), with `size` (one past the end: a zero appended
        to the kernel) for the entries that read the padding.
    """
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
class BaseLocallyConnectedCompat(keras.layers.Layer):
    """Rank-generic tf-keras locally connected layer; see `LocallyConnected2D`."""

    def __init__(
        self,
        rank,
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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        if not _is_int(filters) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive "
                f"int. Received: filters={filters!r}"
            )
        if _is_int(implementation) and implementation in IMPLEMENTATIONS:
            implementation = int(implementation)
        else:
            raise ValueError(
                f"Invalid value for argument `implementation`. Expected one of "
                f"{list(IMPLEMENTATIONS)}. Received: implementation={implementation!r}"
            )
        self.filters = int(filters)
        self.kernel_size = _int_tuple(kernel_size, rank, "kernel_size")
        self.strides = _int_tuple(strides, rank, "strides")
        self.padding = _choice(padding, "padding", PADDINGS)
        if self.padding != "valid" and implementation == 1:
            raise ValueError(
                f"Invalid value for argument `padding`. `{type(self).__name__}` with "
                f"implementation=1 supports only padding='valid' (as in tf-keras; "
                f"implementations 2 and 3 also allow 'same'). Received: padding={padding!r}"
            )
        self.data_format = (
            keras.config.image_data_format() if data_format is None else _choice(data_format, "data_format", DATA_FORMATS)
        )
        if not isinstance(use_bias, bool):
            raise TypeError(f"Invalid type for argument `use_bias`. Expected a bool. Received: use_bias={use_bias!r}")
        self.implementation = implementation
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    # ---------------------------------------------------------------- shapes
    @property
    def _channels_first(self):
        return self.data_format == "channels_first"

    def _split(self, input_shape):
        """(spatial shape, channels) of an input shape in this data format."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"`{type(self).__name__}` expects inputs of rank {self.rank + 2}. "
                f"Received: input_shape={input_shape}"
            )
        if self._channels_first:
            return input_shape[2:], input_shape[1]
        return input_shape[1:-1], input_shape[-1]

    def _output_spatial(self, spatial):
        return tuple(
            None if n is None else _tf_keras_output_length(n, k, s, self.padding)
            for n, k, s in zip(spatial, self.kernel_size, self.strides)
        )

    def compute_output_shape(self, input_shape):
        spatial, _ = self._split(input_shape)
        out = self._output_spatial(spatial)
        if self._channels_first:
            return (input_shape[0], self.filters, *out)
        return (input_shape[0], *out, self.filters)

    def weight_shapes(self, input_shape):
        """tf-keras's weight shapes for `input_shape` (in this data format).

        Example:

        >>> LocallyConnected2D(4, 3, implementation=3).weight_shapes((None, 5, 5, 2))
        {'kernel': (648,), 'bias': (3, 3, 4)}
        """
        spatial, channels = self._split(input_shape)
        out = self._output_spatial(spatial)
        positions, taps, pixels = int(np.prod(out)), int(np.prod(self.kernel_size)), int(np.prod(spatial))
        if self.implementation == 1:
            kernel = (positions, taps * channels, self.filters)
        elif self.implementation == 2:
            if self._channels_first:
                kernel = (channels, *spatial, self.filters, *out)
            else:
                kernel = (*spatial, channels, *out, self.filters)
        else:
            kernel = (self._tables(spatial, channels)[1],)
        shapes = {"kernel": kernel}
        if self.use_bias:
            shapes["bias"] = (*out, self.filters)
        return shapes

    def _tables(self, spatial, channels):
        """(plan, kernel entries, index table or None, out spatial), from numpy."""
        out = self._output_spatial(spatial)
        amounts = tuple(
            _tf_keras_padding(n, k, s, self.padding) for n, k, s in zip(spatial, self.kernel_size, self.strides)
        )
        plan = _make_plan(tuple(spatial), out, self.kernel_size, self.strides, amounts)
        if self.implementation == 1:
            return plan, None, None, out
        index, size = _kernel_index(
            self.implementation, self.data_format, plan.gather, plan.pixels, channels, self.filters
        )
        return plan, size, index, out

    # ----------------------------------------------------------------- build
    def build(self, input_shape):
        spatial, channels = self._split(input_shape)
        name = type(self).__name__
        if channels is None or None in spatial:
            raise ValueError(
                f"`{name}` needs the input's spatial size and channels (its weights "
                f"depend on them). Received: input_shape={tuple(input_shape)}"
            )
        out = self._output_spatial(spatial)
        if min(out) <= 0:
            raise ValueError(
                f"`{name}` with kernel_size={self.kernel_size}, strides={self.strides} "
                f"and padding={self.padding!r} would produce an empty output. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._plan, _, self._index, self._out = self._tables(spatial, channels)
        self._channels = channels
        self._input_shape = (None, *tuple(input_shape)[1:])
        shapes = self.weight_shapes(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=shapes["kernel"],
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=shapes["bias"],
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        channel_axis = 1 if self._channels_first else self.rank + 1
        spatial_axes = range(2, self.rank + 2) if self._channels_first else range(1, self.rank + 1)
        self.input_spec = InputSpec(
            ndim=self.rank + 2, axes={channel_axis: channels, **dict(zip(spatial_axes, spatial))}
        )

    # ------------------------------------------------------------------ call
    def _kernel_blocks(self, channels=None):
        """The kernel as one (C, F) block per (position, tap): (P, T, C, F).

        (`channels` as the native `BaseLocallyConnected._kernel_blocks`; the
        layer knows its own.)
        """
        channels = self._channels
        positions, taps = self._plan.positions, self._plan.taps
        if self.implementation == 1:
            if not self._channels_first:
                return ops.reshape(self.kernel, (positions, taps, channels, self.filters))
            blocks = ops.reshape(self.kernel, (positions, channels, taps, self.filters))  # patch in (C, kh, kw) order
            return ops.transpose(blocks, (0, 2, 1, 3))
        flat = ops.reshape(self.kernel, (-1,))
        if self._plan.reads_zero:  # the entry past the end: taps in the padding
            flat = ops.concatenate([flat, ops.zeros((1,), dtype=flat.dtype)])
        return ops.take(flat, self._index, axis=0)  # (P, T, C, F)

    def _call_bias(self):
        """The bias as added to the channels-last output: (*out, F)."""
        if not self._channels_first:
            return self.bias
        # tf-keras's bias_add reshapes (not transposes) (*out, F) to (F, *out).
        bias = ops.reshape(self.bias, (self.filters, *self._out))
        return ops.transpose(bias, (*range(1, self.rank + 1), 0))

    def call(self, inputs):
        x = inputs
        if self._channels_first:
            x = ops.transpose(x, (0, *range(2, self.rank + 2), 1))  # (B, *S, C)
        y = locally_connected.locally_connected_op(x, self._kernel_blocks(), self._plan, self._out)  # (B, *out, F)
        if self.use_bias:
            y = ops.add(y, self._call_bias())
        if self._channels_first:
            y = ops.transpose(y, (0, self.rank + 1, *range(1, self.rank + 1)))  # (B, F, *out)
        # After the transpose, as tf-keras (an axis-wise activation sees its layout).
        return self.activation(y) if self.activation is not None else y

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.pop("autocast", None)  # not a tf-keras key; Keras's default
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "implementation": self.implementation,
            }
        )
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
    input_shape = layer._input_shape  # (None, *spatial, C) or (None, C, *spatial)
    spatial, _ = layer._split(input_shape)
    amounts = [_tf_keras_padding(n, k, s, layer.padding) for n, k, s in zip(spatial, layer.kernel_size, layer.strides)]
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
    blocks = ops.convert_to_numpy(layer._kernel_blocks())  # (P, T, C, F)
    native.kernel.assign(blocks.reshape(native.kernel.shape))
    if layer.use_bias:
        native.bias.assign(np.reshape(ops.convert_to_numpy(layer._call_bias()), native.bias.shape))
    return result

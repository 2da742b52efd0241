"""tf-keras's LocallyConnected1D/2D for Keras 3: load old models, then go native.

Keras 3 dropped `LocallyConnected1D/2D`, so a tf-keras `.h5` model that uses
them no longer loads. The two classes here take tf-keras's exact arguments
and defaults and hold their weights in tf-keras's layout for each
`implementation` (1, 2 or 3) and `data_format`, so that

    keras.models.load_model("old.h5", custom_objects=compat.custom_objects())

fills them from the file as it is, and `layer.set_weights(tf_keras_layer.
get_weights())` works both ways. Whatever the implementation, they compute
with the native fast path (`_gather.locally_connected_op`): the kernel is turned into
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

import keras
import numpy as np
from keras import activations, constraints, initializers, ops, regularizers

from constrained_layers import _tf_keras_layout
from constrained_layers._compat_base import (  # noqa: F401 (the keyword lists are part of this module's API)
    IMPLEMENTATIONS, NATIVE_ONLY_KEYWORDS, TF_KERAS_KEYWORDS, TF_KERAS_ONLY_KEYWORDS, BaseLocallyConnectedCompat)
from constrained_layers.locally_connected import LocallyConnected
from constrained_layers.locally_connected import LocallyConnected1D as NativeLocallyConnected1D

__all__ = ["LocallyConnected1D", "LocallyConnected2D", "custom_objects", "to_native"]

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

    rank = 2

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

    rank = 1

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
        before == _tf_keras_layout.keras_same_before(n, k, s)
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

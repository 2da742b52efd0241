"""Every bad input gets a clear error that names the argument and the value.

Layers that must build use kernel_initializer="zeros": the initializer is
irrelevant here, and a random kernel of a new shape costs an XLA compilation
on JAX.

The messages follow Keras's wording (keras/src/utils/argument_validation.py):
"Invalid value for argument `filters`. Expected a strictly positive value.
Received: filters=0". Each test asserts the message, not only the type.
"""

import re
import time

import keras
import numpy as np
import pytest

import constrained_layers
from constrained_layers import (
    FullyConnected1D,
    FullyConnected2D,
    LocallyConnected,
    LocallyConnected1D,
    LowRankLocallyConnected,
    LowRankLocallyConnected1D,
    MultiChannelConv,
    MultiChannelConv1D,
    SharedConv,
    SharedConv1D,
)

LOW_RANK = [LowRankLocallyConnected, LowRankLocallyConnected1D]
WINDOWED = [LocallyConnected, LocallyConnected1D, SharedConv, SharedConv1D, MultiChannelConv, MultiChannelConv1D,
            *LOW_RANK]
WITH_FILTERS = [FullyConnected1D, FullyConnected2D, LocallyConnected, LocallyConnected1D, MultiChannelConv,
                MultiChannelConv1D, *LOW_RANK]


def make(layer_cls, **kwargs):
    """Builds `layer_cls` with `filters=2` where it takes filters (and
    `num_kernels=2` for the low-rank layers)."""
    if layer_cls in WITH_FILTERS and "filters" not in kwargs:
        kwargs["filters"] = 2
    if layer_cls in LOW_RANK and "num_kernels" not in kwargs:
        kwargs["num_kernels"] = 2
    return layer_cls(**kwargs)


def ids(classes):
    return [c.__name__ for c in classes]


# ------------------------------------------------------------------- the window


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
@pytest.mark.parametrize(
    "delta, error, message",
    [
        (-1, ValueError, "Invalid value for argument `delta`. Expected a non-negative integer or a tuple "
                         "of {rank} non-negative integers. Received: delta=-1"),
        (1.5, TypeError, "Invalid type for argument `delta`. Expected a non-negative integer or a tuple "
                         "of {rank} non-negative integers. Received: delta=1.5 of type float"),
        ("2", TypeError, "Invalid type for argument `delta`. Expected a non-negative integer or a tuple "
                         "of {rank} non-negative integers. Received: delta='2' of type str"),
        (True, TypeError, "Invalid type for argument `delta`. Expected a non-negative integer or a tuple "
                          "of {rank} non-negative integers. Received: delta=True of type bool"),
    ],
    ids=["negative", "float", "string", "bool"],
)
def test_bad_delta(layer_cls, delta, error, message):
    rank = 1 if layer_cls.__name__.endswith("1D") else 2
    with pytest.raises(error, match=re.escape(message.format(rank=rank))):
        make(layer_cls, delta=delta)


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
def test_delta_and_kernel_size_together(layer_cls):
    with pytest.raises(ValueError, match=re.escape(
        "Pass exactly one of `delta` and `kernel_size`, not both. Received: delta=1, kernel_size=3"
    )):
        make(layer_cls, delta=1, kernel_size=3)


@pytest.mark.parametrize("layer_cls", [LocallyConnected, LocallyConnected1D, MultiChannelConv, MultiChannelConv1D,
                                       *LOW_RANK],
                         ids=ids([LocallyConnected, LocallyConnected1D, MultiChannelConv, MultiChannelConv1D,
                                  *LOW_RANK]))
def test_neither_delta_nor_kernel_size(layer_cls):
    with pytest.raises(ValueError, match=r"Pass exactly one of `delta` .* and `kernel_size`\. "
                                         r"Received: delta=None, kernel_size=None"):
        make(layer_cls)


@pytest.mark.parametrize("layer_cls", [SharedConv, SharedConv1D], ids=ids([SharedConv, SharedConv1D]))
def test_shared_conv_without_window_is_whole_input(layer_cls):
    """SharedConv allows neither: translation invariance without locality."""
    layer = layer_cls(kernel_initializer="zeros")
    assert layer.kernel_size is None and layer.delta is None
    shape = (1, 5, 3) if layer_cls is SharedConv1D else (1, 5, 4, 3)
    layer(np.zeros(shape, "float32"))
    assert tuple(layer.kernel.shape)[:-2] == tuple(2 * n - 1 for n in shape[1:-1])


@pytest.mark.parametrize(
    "layer_cls, kernel_size, error, message",
    [
        (MultiChannelConv, 0, ValueError, "Invalid value for argument `kernel_size`. Expected a positive "
                                          "integer or a tuple of 2 positive integers. Received: kernel_size=0"),
        (LocallyConnected1D, 0, ValueError, "Invalid value for argument `kernel_size`. Expected a positive "
                                            "integer or a tuple of 1 positive integers. Received: kernel_size=0"),
        (SharedConv, (3, 0), ValueError, "Received: kernel_size=(3, 0)"),
        (MultiChannelConv, (3, 3, 3), ValueError, "Invalid value for argument `kernel_size`. Expected a positive "
                                                  "integer or a tuple of 2 positive integers. "
                                                  "Received: kernel_size=(3, 3, 3) with 3 elements"),
        (SharedConv1D, (3, 3), ValueError, "Received: kernel_size=(3, 3) with 2 elements"),
        (LocallyConnected, 2.0, TypeError, "Invalid type for argument `kernel_size`. Expected a positive "
                                           "integer or a tuple of 2 positive integers. "
                                           "Received: kernel_size=2.0 of type float"),
    ],
)
def test_bad_kernel_size(layer_cls, kernel_size, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make(layer_cls, kernel_size=kernel_size)


def test_delta_tuple_of_wrong_length():
    with pytest.raises(ValueError, match=re.escape("Received: delta=(1, 1, 1) with 3 elements")):
        SharedConv(delta=(1, 1, 1))


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
@pytest.mark.parametrize("strides, error, received", [(0, ValueError, "strides=0"),
                                                      (-2, ValueError, "strides=-2"),
                                                      ("1", TypeError, "strides='1' of type str")])
def test_bad_strides(layer_cls, strides, error, received):
    with pytest.raises(error, match=r"argument `strides`\. Expected a positive integer.*Received: "
                                    + re.escape(received)):
        make(layer_cls, delta=1, strides=strides)


# ---------------------------------------------------------------- other arguments


@pytest.mark.parametrize("layer_cls", WITH_FILTERS, ids=ids(WITH_FILTERS))
def test_bad_filters(layer_cls):
    kwargs = {} if layer_cls in (FullyConnected1D, FullyConnected2D) else {"delta": 1}
    with pytest.raises(ValueError, match=re.escape(
        "Invalid value for argument `filters`. Expected a strictly positive value. Received: filters=0"
    )):
        layer_cls(filters=0, **kwargs)
    with pytest.raises(TypeError, match=re.escape(
        "Invalid type for argument `filters`. Expected a positive integer. Received: filters='8' of type str"
    )):
        layer_cls(filters="8", **kwargs)
    with pytest.raises(TypeError, match=re.escape("Received: filters=8.0 of type float")):
        layer_cls(filters=8.0, **kwargs)


def test_filters_none_is_refused_when_constructed():
    """filters is required: None must fail at construction, naming `filters`.

    Currently accepted: `ConstrainedLayer.__init__` validates `filters` only
    when it is not None (None is how SharedConv says "no filters"), so
    e.g. `LocallyConnected(filters=None, delta=1)` is created and fails only at
    build with Keras's "Shapes used to initialize variables must be
    fully-defined" error, which does not name `filters`; count_params fails
    with a TypeError from math.prod.
    """
    accepted = []
    for layer_cls in WITH_FILTERS:
        kwargs = {} if layer_cls in (FullyConnected1D, FullyConnected2D) else {"delta": 1}
        try:
            layer_cls(filters=None, **kwargs)
        except (TypeError, ValueError) as error:
            assert re.search(r"argument `filters`.*Received: filters=None", str(error)), str(error)
        else:
            accepted.append(layer_cls.__name__)
    assert not accepted, f"filters=None accepted by {accepted}"


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
def test_unknown_padding(layer_cls):
    allowed = "['same', 'valid', 'causal']" if layer_cls.__name__.endswith("1D") else "['same', 'valid']"
    with pytest.raises(ValueError, match=re.escape(
        f"Invalid value for argument `padding`. Expected one of {allowed}. Received: padding='full'"
    )):
        make(layer_cls, delta=1, padding="full")
    with pytest.raises(ValueError, match=re.escape("Received: padding=None")):
        make(layer_cls, delta=1, padding=None)


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
def test_unknown_padding_mode(layer_cls):
    with pytest.raises(ValueError, match=re.escape(
        "Invalid value for argument `padding_mode`. Expected one of ['zeros', 'reflect', 'symmetric', "
        "'circular']. Received: padding_mode='edge'"
    )):
        make(layer_cls, delta=1, padding_mode="edge")


def test_padding_arguments_are_case_insensitive():
    layer = MultiChannelConv(2, delta=1, padding="SAME", padding_mode="Reflect")
    assert (layer.padding, layer.padding_mode) == ("same", "reflect")


@pytest.mark.parametrize("layer_cls", WITH_FILTERS + [SharedConv, SharedConv1D],
                         ids=ids(WITH_FILTERS + [SharedConv, SharedConv1D]))
@pytest.mark.parametrize("value", [1, "True", None])
def test_use_bias_not_bool(layer_cls, value):
    kwargs = {} if layer_cls in (FullyConnected1D, FullyConnected2D) else {"delta": 1}
    with pytest.raises(TypeError, match=re.escape(
        f"Invalid type for argument `use_bias`. Expected a bool. Received: use_bias={value!r}"
    )):
        make(layer_cls, use_bias=value, **kwargs)


@pytest.mark.parametrize("layer_cls", WINDOWED, ids=ids(WINDOWED))
def test_convolution_not_bool(layer_cls):
    with pytest.raises(TypeError, match=re.escape(
        "Invalid type for argument `convolution`. Expected a bool. Received: convolution='yes'"
    )):
        make(layer_cls, delta=1, convolution="yes")


@pytest.mark.parametrize("layer_cls", [FullyConnected1D, FullyConnected2D], ids=ids([FullyConnected1D, FullyConnected2D]))
def test_bad_fully_connected_arguments(layer_cls):
    with pytest.raises(ValueError, match=re.escape(
        "Invalid value for argument `max_params`. Expected a strictly positive value. Received: max_params=0"
    )):
        layer_cls(2, max_params=0)
    with pytest.raises(ValueError, match=r"argument `output_size`.*Received: output_size=0"):
        layer_cls(2, output_size=0)


# ------------------------------------------------------------------ the boundary


@pytest.mark.parametrize(
    "layer, input_shape, message",
    [
        # reflect mirrors without the edge: at most n - 1 = 3 pixels on 4.
        (SharedConv(delta=4, padding_mode="reflect"), (1, 4, 4, 1),
         "padding_mode='reflect' can pad at most 3 pixels on an axis of length 4, but "
         "kernel_size=(9, 9) with padding='same' needs 4 on axis 1"),
        (MultiChannelConv1D(2, delta=3, padding_mode="reflect"), (1, 3, 2),
         "padding_mode='reflect' can pad at most 2 pixels on an axis of length 3"),
        # symmetric repeats the edge: at most n = 4.
        (LocallyConnected(2, delta=5, padding_mode="symmetric"), (1, 4, 4, 1),
         "padding_mode='symmetric' can pad at most 4 pixels on an axis of length 4, but "
         "kernel_size=(11, 11) with padding='same' needs 5 on axis 1"),
        # circular wraps around once: at most n = 4 (only the width is too small here).
        (SharedConv(delta=(1, 5), padding_mode="circular"), (1, 8, 4, 1),
         "padding_mode='circular' can pad at most 4 pixels on an axis of length 4, but "
         "kernel_size=(3, 11) with padding='same' needs 5 on axis 2"),
    ],
    ids=["reflect", "reflect-1D", "symmetric", "circular"],
)
def test_padding_wider_than_the_input(layer, input_shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.zeros(input_shape, "float32"))
    with pytest.raises(ValueError, match=re.escape("Use a smaller window or padding_mode='zeros'")):
        layer.compute_output_shape(input_shape)


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (SharedConv(delta=3, kernel_initializer="zeros", padding_mode="reflect"), (1, 4, 4, 1)),  # needs 3 = n - 1
        (SharedConv(delta=4, kernel_initializer="zeros", padding_mode="symmetric"), (1, 4, 4, 1)),  # needs 4 = n
        (SharedConv(delta=4, kernel_initializer="zeros", padding_mode="circular"), (1, 4, 4, 1)),  # needs 4 = n
        (SharedConv(delta=9, kernel_initializer="zeros", padding_mode="zeros"), (1, 4, 4, 1)),  # zeros: no limit
        (SharedConv(kernel_initializer="zeros", padding_mode="reflect"), (1, 4, 4, 1)),  # whole image: needs n - 1
    ],
    ids=["reflect", "symmetric", "circular", "zeros", "whole-image-reflect"],
)
def test_padding_at_the_limit_is_allowed(layer, input_shape):
    assert tuple(layer(np.zeros(input_shape, "float32")).shape) == input_shape


@pytest.mark.parametrize(
    "layer, input_shape, message",
    [
        (MultiChannelConv(1, kernel_size=5, padding="valid"), (1, 4, 4, 1),
         "`MultiChannelConv` with kernel_size=(5, 5), strides=(1, 1) and padding='valid' would produce "
         "an empty output: the window is larger than the input. Received: input_shape=(1, 4, 4, 1)"),
        (LocallyConnected1D(1, delta=2, padding="valid"), (1, 4, 1),
         "`LocallyConnected1D` with kernel_size=(5,), strides=(1,) and padding='valid' would produce "
         "an empty output"),
        (SharedConv(kernel_size=(1, 6), padding="valid"), (1, 9, 5, 2),
         "`SharedConv` with kernel_size=(1, 6)"),
        # A whole-image window with 'valid' padding is 2n-1 > n.
        (SharedConv(padding="valid"), (1, 3, 3, 1), "kernel_size=(5, 5)"),
    ],
)
def test_valid_window_larger_than_the_input(layer, input_shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.zeros(input_shape, "float32"))
    # count_params refuses what build refuses, with the same message.
    with pytest.raises(ValueError, match=re.escape(message.replace(f"input_shape={input_shape}",
                                                                   f"input_shape={(None, *input_shape[1:])}"))):
        constrained_layers.count_params(layer, input_shape[1:])


def test_count_params_refuses_a_padding_wider_than_the_input():
    with pytest.raises(ValueError, match=re.escape(
        "padding_mode='reflect' can pad at most 3 pixels on an axis of length 4, but kernel_size=(9, 9) with "
        "padding='same' needs 4 on axis 1"
    )):
        constrained_layers.count_params(SharedConv, (4, 4, 1), delta=4, padding_mode="reflect")


@pytest.mark.parametrize(
    "layer_cls, window",
    [(SharedConv, {}), (SharedConv, {"kernel_size": 3}), (MultiChannelConv, {"kernel_size": 3})],
    ids=["SharedConv-whole-image", "SharedConv-kernel_size", "MultiChannelConv-kernel_size"],
)
def test_fft_on_an_input_of_unknown_size_is_named(layer_cls, window):
    """The spatial size is checked before the window is computed from it
    (a raw TypeError before issue #11)."""
    layer = make(layer_cls, implementation="fft", **window)
    name = layer_cls.__name__
    message = (f"`{name}` with this configuration has weights whose shape depends on the input's spatial size"
               if not window else
               f"`{name}` with implementation='fft' needs the input's spatial size (the transform length)")
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.build((None, None, None, 1))
    with pytest.raises(ValueError, match=re.escape(message)):
        constrained_layers.count_params(layer, (None, None, 1))
    assert not layer.built


@pytest.mark.tensorflow_only
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="only TensorFlow's graphs have spatial sizes "
                    "unknown until run time (JAX traces with static shapes)")
@pytest.mark.parametrize("mode, needed", (("reflect", 4), ("symmetric", 3), ("circular", 3)))
def test_padding_wider_than_an_input_of_unknown_size_is_named_at_run_time(mode, needed):
    import tensorflow as tf

    layer = SharedConv1D(delta=3, padding_mode=mode, kernel_initializer="zeros", name="wide")
    model = keras.Sequential([keras.Input((None, 1)), layer])
    assert model(np.zeros((1, needed, 1), "float32")).shape == (1, needed, 1)  # just wide enough: fine
    run = tf.function(model, input_signature=[tf.TensorSpec((None, None, 1), tf.float32)])
    assert run(np.zeros((1, needed, 1), "float32")).shape == (1, needed, 1)
    with pytest.raises(tf.errors.InvalidArgumentError) as error:
        run(np.zeros((1, needed - 1, 1), "float32"))
    # (TensorFlow escapes the quotes of the message it prints.)
    message = str(error.value).replace("\\'", "'")
    assert (f"`SharedConv1D` (wide): padding_mode='{mode}' with kernel_size=(7,), dilation_rate=(1,) and "
            f"padding='same' pads 3 pixels on spatial axis 1, so that axis must have at least {needed} pixels. "
            f"Use a smaller window or padding_mode='zeros'") in message, message[-600:]


# ------------------------------------------------------------------ input shapes


@pytest.mark.parametrize(
    "layer, input_shape, message",
    [
        (MultiChannelConv(2, delta=1), (2, 5, 3),
         "`MultiChannelConv` expects inputs of rank 4, (batch, height, width, channels). "
         "Received: input_shape=(2, 5, 3)"),
        (FullyConnected2D(2), (2, 5, 3), "`FullyConnected2D` expects inputs of rank 4"),
        (SharedConv(delta=1), (2, 5, 5, 5, 3), "`SharedConv` expects inputs of rank 4"),
        (LocallyConnected1D(2, delta=1), (2, 5, 5, 3),
         "`LocallyConnected1D` expects inputs of rank 3, (batch, steps, channels). "
         "Received: input_shape=(2, 5, 5, 3)"),
        (MultiChannelConv1D(2, delta=1), (2, 5), "`MultiChannelConv1D` expects inputs of rank 3"),
        (FullyConnected1D(2), (2, 5, 5, 3), "`FullyConnected1D` expects inputs of rank 3"),
        (SharedConv1D(delta=1), (2, 5, 5, 3), "`SharedConv1D` expects inputs of rank 3"),
        (LocallyConnected(2, delta=1), (2, 5, 3), "`LocallyConnected` expects inputs of rank 4"),
        (LowRankLocallyConnected(2, delta=1, num_kernels=2), (2, 5, 3),
         "`LowRankLocallyConnected` expects inputs of rank 4, (batch, height, width, channels). "
         "Received: input_shape=(2, 5, 3)"),
        (LowRankLocallyConnected1D(2, delta=1, num_kernels=2), (2, 5, 5, 3),
         "`LowRankLocallyConnected1D` expects inputs of rank 3"),
    ],
)
def test_wrong_rank(layer, input_shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.zeros(input_shape, "float32"))


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (FullyConnected2D(2), (None, None, None, 3)),
        (FullyConnected2D(2), (None, 8, None, 3)),
        (LocallyConnected(2, delta=1), (None, None, None, 3)),
        (SharedConv(), (None, None, None, 3)),
        (FullyConnected1D(2), (None, None, 3)),
        (LocallyConnected1D(2, delta=1), (None, None, 3)),
        (SharedConv1D(), (None, None, 3)),
        # The mixing weights: one row per output position.
        (LowRankLocallyConnected(2, delta=1, num_kernels=2), (None, 8, None, 3)),
        (LowRankLocallyConnected1D(2, delta=1, num_kernels=2), (None, None, 3)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, keras.layers.Layer) else str(v),
)
def test_unknown_spatial_size(layer, input_shape):
    name = type(layer).__name__
    message = (f"`{name}` with this configuration has weights whose shape depends on the input's "
               f"spatial size")
    with pytest.raises(ValueError, match=re.escape(message) + r".*" + re.escape(f"input_shape={input_shape}")):
        layer.build(input_shape)
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(keras.Input(input_shape[1:]))
    assert not layer.built


def test_strided_padding_mode_needs_a_known_size():
    """Where to put reflect/symmetric/circular padding with strides > 1
    depends on the input's size."""
    with pytest.raises(ValueError, match=re.escape(
        "`MultiChannelConv` with padding='same', padding_mode='reflect' and strides>1 needs a known "
        "input size to place the padding. Received: input_shape=(None, None, None, 3)"
    )):
        MultiChannelConv(2, delta=1, strides=2, padding_mode="reflect")(keras.Input((None, None, 3)))
    # With zeros, or a known size, it is fine.
    assert tuple(MultiChannelConv(2, delta=1, strides=2)(keras.Input((None, None, 3))).shape) == (None, None, None, 2)
    layer = MultiChannelConv(2, delta=1, strides=2, padding_mode="reflect")
    assert tuple(layer(keras.Input((7, 7, 3))).shape) == (None, 4, 4, 2)


def test_shared_conv_has_no_filters():
    """SharedConv keeps the input's channels: there is no `filters` to set."""
    with pytest.raises(TypeError, match="filters"):
        SharedConv(filters=3, delta=1)


def test_unknown_channels():
    with pytest.raises(ValueError, match=re.escape(
        "`MultiChannelConv` needs a known number of channels (the last axis). "
        "Received: input_shape=(None, 8, 8, None)"
    )):
        MultiChannelConv(2, delta=1).build((None, 8, 8, None))


@pytest.mark.parametrize(
    "layer, built_shape, bad_shape, message",
    [
        (MultiChannelConv(2, delta=1, kernel_initializer="zeros"), (1, 5, 5, 3), (1, 5, 5, 4),
         "expected axis -1 of input shape to have value 3, but received input with shape (1, 5, 5, 4)"),
        (SharedConv(delta=1, kernel_initializer="zeros"), (1, 5, 5, 3), (1, 5, 5, 1),
         "expected axis -1 of input shape to have value 3, but received input with shape (1, 5, 5, 1)"),
        (LocallyConnected1D(2, delta=1, kernel_initializer="zeros"), (1, 6, 2), (1, 6, 5),
         "expected axis -1 of input shape to have value 2, but received input with shape (1, 6, 5)"),
        (FullyConnected2D(2, kernel_initializer="zeros"), (1, 4, 4, 2), (1, 4, 4, 3),
         "expected axis -1 of input shape to have value 2, but received input with shape (1, 4, 4, 3)"),
        # Layers whose weights depend on the spatial size pin it too.
        (LocallyConnected(2, delta=1, kernel_initializer="zeros"), (1, 5, 6, 1), (1, 5, 7, 1),
         "expected axis 2 of input shape to have value 6, but received input with shape (1, 5, 7, 1)"),
        (LowRankLocallyConnected1D(2, delta=1, num_kernels=2, kernel_initializer="zeros"), (1, 6, 1), (1, 7, 1),
         "expected axis 1 of input shape to have value 6, but received input with shape (1, 7, 1)"),
    ],
)
def test_different_input_than_built_with(layer, built_shape, bad_shape, message):
    layer(np.zeros(built_shape, "float32"))
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.zeros(bad_shape, "float32"))


# ------------------------------------------------------------- too many weights


def test_megapixel_fully_connected_refuses_instantly():
    """The text's 10^12-parameter layer is refused before anything is allocated."""
    layer = FullyConnected2D(filters=1)
    start = time.perf_counter()
    with pytest.raises(ValueError) as info:
        layer.build((None, 1000, 1000, 1))
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"refusing took {elapsed:.1f} s"
    message = str(info.value)
    assert "`FullyConnected2D` would need 1,000,001,000,000 parameters (4.0 TB as float32)" in message
    assert "kernel (1000, 1000, 1, 1000, 1000, 1)" in message
    assert "exceeds max_params=100,000,000" in message
    assert "raise `max_params`" in message
    assert not layer.built and not layer.weights


def test_megapixel_fully_connected_refuses_in_a_model():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=re.escape("1,000,001,000,000 parameters")):
        FullyConnected2D(filters=1)(keras.Input((1000, 1000, 1)))
    assert time.perf_counter() - start < 5.0


def test_default_max_params_is_one_hundred_million():
    # 100·100·1·100·100·1 + 100·100 = 100,010,000: just over the default.
    with pytest.raises(ValueError, match=re.escape("would need 100,010,000 parameters")):
        FullyConnected2D(filters=1).build((None, 100, 100, 1))


def test_max_params_can_be_raised():
    # 8·8·2·8·8·1 + 8·8·1 = 8,256 parameters.
    with pytest.raises(ValueError, match=re.escape("would need 8,256 parameters (33.0 KB as float32)")):
        FullyConnected2D(filters=1, max_params=8_255).build((None, 8, 8, 2))
    layer = FullyConnected2D(filters=1, max_params=8_256, kernel_initializer="zeros")
    layer.build((None, 8, 8, 2))
    assert layer.count_params() == 8_256
    assert layer.get_config()["max_params"] == 8_256


# --------------------------------------------------------------- count_params


def test_count_params_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError) as info:
        constrained_layers.count_params("Conv2D", (28, 28, 1), filters=1, delta=1)
    message = str(info.value)
    assert "Unknown layer for argument `layer`" in message
    assert "Received: layer='Conv2D'" in message
    for name in ("FullyConnected1D", "FullyConnected2D", "LocallyConnected", "LocallyConnected1D",
                 "LowRankLocallyConnected", "LowRankLocallyConnected1D", "LowRankLocallyConnected2D",
                 "SharedConv", "SharedConv1D", "MultiChannelConv", "MultiChannelConv1D"):
        assert repr(name) in message


def test_count_params_refuses_other_layers():
    with pytest.raises(TypeError, match=r"Expected a constrained layer class, its name or an instance\. "
                                        r"Received: layer=<class '.*Conv2D'>"):
        constrained_layers.count_params(keras.layers.Conv2D, (28, 28, 1), filters=1, kernel_size=3)


def test_count_params_instance_with_kwargs():
    with pytest.raises(ValueError, match=re.escape(
        "Pass `layer_kwargs` only with a layer class or name, not with an instance. "
        "Received: layer_kwargs={'delta': 1}"
    )):
        constrained_layers.count_params(SharedConv(delta=2), (8, 8, 1), delta=1)


def test_count_params_reports_the_layers_own_errors():
    with pytest.raises(ValueError, match=r"argument `delta`.*Received: delta=-1"):
        constrained_layers.count_params(SharedConv, (8, 8, 1), delta=-1)
    with pytest.raises(ValueError, match=r"`LocallyConnected` expects inputs of rank 4"):
        constrained_layers.count_params(LocallyConnected, (8, 1), filters=1, delta=1)
    with pytest.raises(ValueError, match=r"depends on the input's spatial size"):
        constrained_layers.count_params(FullyConnected2D, (None, None, 1), filters=1)

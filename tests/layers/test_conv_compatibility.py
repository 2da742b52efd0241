"""A Keras user's Conv line rewritten with our layers computes the same numbers.

Issue #11: Conv-compatible signatures (`MultiChannelConv(16, 3)` is
`Conv2D(16, 3, padding="same")`, `delta` keyword-only), `data_format`,
`dilation_rate` and `padding="causal"`, each checked against Keras's own
layers given the same weights, or, where Keras has no such layer (dilation
with a padding mode, strides and dilation together, a locally connected
layer), against the numpy references of `tests/layers/reference.py` with
the dilated kernel written out (d - 1 zeros between taps): a dilated
correlation is by definition the correlation with that kernel.
"""

import inspect
import itertools
import re

import keras
import numpy as np
import pytest

import constrained_layers as cl
from tests.layers import helpers, reference

BATCH = 2
SPATIAL = {1: (13,), 2: (9, 8)}
CHANNELS = 3
FILTERS = 2

# (ours, Keras's, whether ours takes filters)
CONVS = {
    "MultiChannelConv": (2, cl.MultiChannelConv, keras.layers.Conv2D, True),
    "MultiChannelConv1D": (1, cl.MultiChannelConv1D, keras.layers.Conv1D, True),
    "SharedConv": (2, cl.SharedConv, keras.layers.DepthwiseConv2D, False),
    "SharedConv1D": (1, cl.SharedConv1D, keras.layers.DepthwiseConv1D, False),
}


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def _ours(name, *args, **kwargs):
    _, cls, _, takes_filters = CONVS[name]
    return cls(*((FILTERS,) if takes_filters else ()), *args, **kwargs, **helpers.FAST_INIT)


def _theirs(name, *args, **kwargs):
    _, _, cls, takes_filters = CONVS[name]
    return cls(*((FILTERS,) if takes_filters else ()), *args, **kwargs)


def _to_channels_first(x):
    return np.moveaxis(x, -1, 1)


def _keras_channels_first(name, x, weights, *args, **kwargs):
    """Keras's layer of these (channels-first) arguments on `x`, given `weights`, as numpy.

    On TensorFlow the reference is Keras's channels-last layer on the
    transposed input, moved back. TensorFlow's CPU convolution runs NCHW
    only through oneDNN, which it turns on by default only on some CPUs
    (on one without AVX-512, Keras's channels-first Conv2D raises
    "The Conv2D op currently only supports the NHWC tensor format on the
    CPU", TF 2.21), and its NCHW depthwise kernel gave wrong numbers (0.9
    off for valid/stride 2 after a stride-1 call with the same shapes: a
    cached oneDNN primitive). On JAX and torch it is Keras's channels-first
    layer itself.
    """
    if keras.backend.backend() == "tensorflow":
        swap = lambda v: "channels_last" if v == "channels_first" else v  # noqa: E731
        theirs = _theirs(name, *map(swap, args), **{k: swap(v) for k, v in kwargs.items()})
        theirs.build(np.moveaxis(x, 1, -1).shape)
        theirs.set_weights(weights)
        return _to_channels_first(helpers.run(theirs, np.moveaxis(x, 1, -1)))
    theirs = _theirs(name, *args, **kwargs)
    theirs.build(x.shape)
    theirs.set_weights(weights)
    return helpers.run(theirs, x)


def _dilate(kernel, rates):
    """The kernel (*window, ...) with rate - 1 zeros between taps (numpy)."""
    for axis, rate in enumerate(rates):
        k = kernel.shape[axis]
        shape = list(kernel.shape)
        shape[axis] = rate * (k - 1) + 1
        out = np.zeros(shape, kernel.dtype)
        index = [slice(None)] * kernel.ndim
        index[axis] = slice(None, None, rate)
        out[tuple(index)] = kernel
        kernel = out
    return kernel


def _reference(name, x, kernel, bias, **kwargs):
    fn = reference.multi_channel_conv if CONVS[name][3] else reference.shared_conv
    return fn(x, kernel, bias, **kwargs)


# --------------------------------------------------------------- signatures
def test_multi_channel_conv_16_3_is_conv2d_16_3_same():
    x = helpers.random_input(np.random.default_rng(0), (BATCH, 7, 6, CHANNELS))
    ours = cl.MultiChannelConv(16, 3)
    theirs = keras.layers.Conv2D(16, 3, padding="same")
    weights = helpers.assign_random_weights(ours, x.shape, np.random.default_rng(1))
    theirs.build(x.shape)
    assert [w.shape for w in weights] == [tuple(w.shape) for w in theirs.weights] == [(3, 3, CHANNELS, 16), (16,)]
    theirs.set_weights(weights)
    _close(helpers.run(ours, x), helpers.run(theirs, x))


@pytest.mark.parametrize("name", list(CONVS))
def test_positional_arguments_mean_what_they_mean_in_keras(name):
    """(filters,) kernel_size, strides, padding, data_format, dilation_rate: all positional."""
    rank = CONVS[name][0]
    rng = np.random.default_rng(helpers.seed_of(name, "positional"))
    x = helpers.random_input(rng, (BATCH, CHANNELS, *SPATIAL[rank]))
    args = (3, 1, "valid", "channels_first", 2)
    ours = _ours(name, *args)
    assert (ours.kernel_size, ours.strides, ours.padding, ours.data_format, ours.dilation_rate) == (
        (3,) * rank, (1,) * rank, "valid", "channels_first", (2,) * rank)
    theirs = args if CONVS[name][3] else (3, 1, "valid", 1, "channels_first", 2)
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    _close(helpers.run(ours, x), _keras_channels_first(name, x, weights, *theirs))


@pytest.mark.parametrize(
    "cls",
    [cl.MultiChannelConv, cl.MultiChannelConv1D, cl.SharedConv, cl.SharedConv1D, cl.LocallyConnected,
     cl.LocallyConnected1D],
    ids=lambda c: c.__name__,
)
def test_delta_and_the_text_arguments_are_keyword_only(cls):
    parameters = inspect.signature(cls).parameters
    positional = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    start = ["filters"] if "filters" in parameters else []
    assert positional == [*start, "kernel_size", "strides", "padding", "data_format", "dilation_rate"]
    for name in ("delta", "padding_mode", "convolution"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    # A seventh positional argument (Keras's `groups`/`activation`) is refused,
    # not silently given another meaning.
    args = (2, 3, 1, "same", "channels_last", 1, "relu") if start else (3, 1, "same", "channels_last", 1, "relu")
    with pytest.raises(TypeError):
        cls(*args)


def test_delta_still_gives_the_texts_window():
    assert cl.MultiChannelConv(4, delta=2).kernel_size == (5, 5)
    assert cl.SharedConv1D(delta=0).kernel_size == (1,)
    assert cl.LocallyConnected(4, delta=(1, 0)).kernel_size == (3, 1)


# -------------------------------------------------------------- data_format
def _format_cases():
    for name, (rank, *_) in CONVS.items():
        for padding, strides in (("same", 1), ("valid", 2), ("same", 2)):
            yield pytest.param(name, padding, strides, id=f"{name}-{padding}-s{strides}")


@pytest.mark.parametrize("name, padding, strides", _format_cases())
def test_channels_first_equals_keras_channels_first(name, padding, strides):
    rank = CONVS[name][0]
    rng = np.random.default_rng(helpers.seed_of(name, padding, strides, "cf"))
    x = helpers.random_input(rng, (BATCH, CHANNELS, *SPATIAL[rank]))
    config = dict(kernel_size=3, strides=strides, padding=padding, data_format="channels_first")
    ours = _ours(name, **config)
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    expected = _keras_channels_first(name, x, weights, **config)
    actual = helpers.run(ours, x)
    assert actual.shape == expected.shape == tuple(ours.compute_output_shape(x.shape))
    _close(actual, expected)


@pytest.mark.parametrize("name", list(CONVS))
@pytest.mark.parametrize("mode", ("reflect", "circular"))
def test_channels_first_with_padding_modes_and_fft(name, mode):
    """No Keras layer pads by reflection: channels-first equals channels-last, transposed."""
    rank = CONVS[name][0]
    rng = np.random.default_rng(helpers.seed_of(name, mode, "cf-modes"))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    last = _ours(name, 4, padding_mode=mode, data_format="channels_last")
    weights = helpers.assign_random_weights(last, x.shape, rng)
    expected = _to_channels_first(_reference(name, x, *weights, padding="same", padding_mode=mode))
    for implementation in ("direct", "fft"):
        first = _ours(name, 4, padding_mode=mode, data_format="channels_first", implementation=implementation)
        first.build(_to_channels_first(x).shape)
        first.set_weights(weights)
        _close(helpers.run(first, _to_channels_first(x)), expected)


@pytest.mark.parametrize("rank", (1, 2))
@pytest.mark.parametrize("mode", ("zeros", "symmetric"))
def test_locally_connected_channels_first_keeps_the_weight_layout(rank, mode):
    rng = np.random.default_rng(helpers.seed_of(rank, mode, "lc-cf"))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    cls = cl.LocallyConnected if rank == 2 else cl.LocallyConnected1D
    first = cls(FILTERS, 3, strides=2, padding_mode=mode, data_format="channels_first", **helpers.FAST_INIT)
    weights = helpers.assign_random_weights(first, _to_channels_first(x).shape, rng)
    out = tuple(-(-n // 2) for n in SPATIAL[rank])
    assert [w.shape for w in weights] == [(int(np.prod(out)), 3**rank * CHANNELS, FILTERS), (*out, FILTERS)]
    expected = reference.locally_connected(x, *weights, kernel_size=3, strides=2, padding="same", padding_mode=mode)
    actual = helpers.run(first, _to_channels_first(x))
    assert actual.shape == (BATCH, FILTERS, *out)
    _close(actual, _to_channels_first(expected))


@pytest.mark.parametrize("rank", (1, 2))
def test_fully_connected_channels_first_equals_flatten_dense(rank):
    """Keras's equivalent: Flatten(data_format="channels_first") (which moves
    channels last before flattening), Dense, Reshape to (*out, F), channels first."""
    rng = np.random.default_rng(rank)
    spatial = SPATIAL[rank]
    x = helpers.random_input(rng, (BATCH, CHANNELS, *spatial))
    cls = cl.FullyConnected2D if rank == 2 else cl.FullyConnected1D
    ours = cls(FILTERS, data_format="channels_first", **helpers.FAST_INIT)
    kernel, bias = helpers.assign_random_weights(ours, x.shape, rng)
    n_in, n_out = int(np.prod(x.shape[1:])), int(np.prod(spatial)) * FILTERS
    theirs = keras.Sequential([
        keras.Input(x.shape[1:]),
        keras.layers.Flatten(data_format="channels_first"),
        keras.layers.Dense(n_out),
        keras.layers.Reshape((*spatial, FILTERS)),
        keras.layers.Permute((rank + 1, *range(1, rank + 1))),
    ])
    theirs.layers[1].set_weights([kernel.reshape(n_in, n_out), bias.reshape(n_out)])
    _close(helpers.run(ours, x), helpers.run(theirs, x))


def test_data_format_defaults_to_keras_image_data_format():
    before = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        layers = [cl.MultiChannelConv(2, 3), cl.SharedConv1D(3), cl.LocallyConnected(2, 3), cl.FullyConnected2D(2)]
        assert {layer.data_format for layer in layers} == {"channels_first"}
        assert cl.MultiChannelConv(2, 3).compute_output_shape((None, 5, 8, 7)) == (None, 2, 8, 7)
    finally:
        keras.config.set_image_data_format(before)
    assert cl.MultiChannelConv(2, 3).data_format == before


# ----------------------------------------------------------------- dilation
def _dilation_cases():
    for name, (rank, *_) in CONVS.items():
        rates = (2, 3) if rank == 1 else (2, (2, 1))
        for rate, padding in itertools.product(rates, ("same", "valid")):
            yield pytest.param(name, rate, padding, id=f"{name}-d{rate}-{padding}".replace(" ", ""))


@pytest.mark.parametrize("name, rate, padding", _dilation_cases())
def test_dilation_equals_keras_dilated_convolution(name, rate, padding):
    rank = CONVS[name][0]
    rng = np.random.default_rng(helpers.seed_of(name, rate, padding))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    config = dict(kernel_size=3, padding=padding, dilation_rate=rate)
    theirs = _theirs(name, **config)
    theirs.build(x.shape)
    for implementation in ("direct", "fft"):
        ours = _ours(name, implementation=implementation, **config)
        weights = helpers.assign_random_weights(ours, x.shape, rng)
        theirs.set_weights(weights)
        _close(helpers.run(ours, x), helpers.run(theirs, x))


def _dilation_mode_cases():
    for name, (rank, *_) in CONVS.items():
        for mode, strides, convolution in (("reflect", 1, False), ("circular", 2, True), ("symmetric", 2, False),
                                           ("zeros", 2, True)):
            yield pytest.param(name, mode, strides, convolution, id=f"{name}-{mode}-s{strides}-conv{convolution}")


@pytest.mark.parametrize("name, mode, strides, convolution", _dilation_mode_cases())
def test_dilation_with_padding_modes_strides_and_flips_equals_reference(name, mode, strides, convolution):
    """Keras refuses strides and dilation together; we compute both (and every
    padding mode), equal to the reference correlation with the dilated kernel."""
    rank = CONVS[name][0]
    rng = np.random.default_rng(helpers.seed_of(name, mode, strides, convolution, "dilated"))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    config = dict(kernel_size=(3, 2)[:rank] if rank == 2 else 3, strides=strides, dilation_rate=2,
                  padding_mode=mode, convolution=convolution)
    for implementation in ("direct", "fft"):
        ours = _ours(name, implementation=implementation, **config)
        kernel, bias = helpers.assign_random_weights(ours, x.shape, rng)
        expected = _reference(name, x, _dilate(kernel, (2,) * rank), bias, strides=strides, padding="same",
                              padding_mode=mode, convolution=convolution)
        _close(helpers.run(ours, x), expected)


@pytest.mark.parametrize("rank", (1, 2))
@pytest.mark.parametrize("mode, strides, convolution", (("zeros", 1, False), ("reflect", 2, True)))
def test_locally_connected_dilation_equals_reference(rank, mode, strides, convolution):
    rng = np.random.default_rng(helpers.seed_of(rank, mode, strides, convolution, "lc-dilated"))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    cls = cl.LocallyConnected if rank == 2 else cl.LocallyConnected1D
    window = (3,) * rank
    ours = cls(FILTERS, 3, strides=strides, dilation_rate=2, padding_mode=mode, convolution=convolution,
               **helpers.FAST_INIT)
    kernel, bias = helpers.assign_random_weights(ours, x.shape, rng)
    positions = kernel.shape[0]
    dilated = _dilate(kernel.reshape(positions, *window, CHANNELS, FILTERS).transpose(
        *range(1, rank + 1), 0, rank + 1, rank + 2), (2,) * rank)  # (*extent, P, C, F)
    extent = dilated.shape[:rank]
    dilated = np.moveaxis(dilated, rank, 0).reshape(positions, -1, FILTERS)
    expected = reference.locally_connected(x, dilated, bias, kernel_size=extent, strides=strides, padding="same",
                                           padding_mode=mode, convolution=convolution)
    _close(helpers.run(ours, x), expected)
    # The readable path agrees with the fast one.
    _close(keras.ops.convert_to_numpy(ours._apply_kernel_patches(x)) + bias, expected)


# ------------------------------------------------------------------- causal
CAUSAL = {
    "MultiChannelConv1D": cl.MultiChannelConv1D,
    "SharedConv1D": cl.SharedConv1D,
    "LocallyConnected1D": cl.LocallyConnected1D,
}


@pytest.mark.parametrize("strides, rate", ((1, 1), (1, 2), (2, 1), (2, 3)))
def test_causal_multi_channel_conv_equals_keras_conv1d_causal(strides, rate):
    rng = np.random.default_rng(helpers.seed_of(strides, rate, "causal"))
    x = helpers.random_input(rng, (BATCH, 13, CHANNELS))
    for implementation in ("direct", "fft"):
        ours = cl.MultiChannelConv1D(FILTERS, 4, strides, "causal", dilation_rate=rate,
                                     implementation=implementation, **helpers.FAST_INIT)
        weights = helpers.assign_random_weights(ours, x.shape, rng)
        # Keras refuses strides and dilation together: its stride-1 output, subsampled.
        theirs = keras.layers.Conv1D(FILTERS, 4, strides if rate == 1 else 1, "causal", dilation_rate=rate)
        theirs.build(x.shape)
        theirs.set_weights(weights)
        expected = helpers.run(theirs, x)[:, :: 1 if rate == 1 else strides]
        _close(helpers.run(ours, x), expected)


@pytest.mark.parametrize("name", list(CAUSAL))
@pytest.mark.parametrize("mode", ("zeros", "reflect", "circular"))
def test_causal_is_left_padding_then_valid(name, mode):
    rng = np.random.default_rng(helpers.seed_of(name, mode, "causal-left"))
    x = helpers.random_input(rng, (BATCH, 13, CHANNELS))
    cls = CAUSAL[name]
    args = () if cls is cl.SharedConv1D else (FILTERS,)
    ours = cls(*args, 3, padding="causal", dilation_rate=2, padding_mode=mode, **helpers.FAST_INIT)
    kernel, bias = helpers.assign_random_weights(ours, x.shape, rng)
    np_mode = {"zeros": "constant", "reflect": "reflect", "circular": "wrap"}[mode]
    padded = np.pad(x, ((0, 0), (4, 0), (0, 0)), mode=np_mode)  # dilation·(k - 1) = 4 before, none after
    if cls is cl.LocallyConnected1D:
        dilated = _dilate(kernel.reshape(-1, 3, CHANNELS, FILTERS).transpose(1, 0, 2, 3), (2,))
        dilated = dilated.transpose(1, 0, 2, 3).reshape(kernel.shape[0], -1, FILTERS)
        expected = reference.locally_connected(padded, dilated, bias, kernel_size=5, padding="valid")
    else:
        fn = reference.shared_conv if cls is cl.SharedConv1D else reference.multi_channel_conv
        expected = fn(padded, _dilate(kernel, (2,)), bias, padding="valid")
    actual = helpers.run(ours, x)
    assert actual.shape[1] == 13
    _close(actual, expected)


@pytest.mark.parametrize("name", list(CAUSAL))
def test_causal_output_at_t_sees_only_inputs_up_to_t(name):
    cls = CAUSAL[name]
    args = () if cls is cl.SharedConv1D else (FILTERS,)
    layer = cls(*args, 3, padding="causal", dilation_rate=2, **helpers.FAST_INIT)
    x = helpers.random_input(np.random.default_rng(0), (1, 10, CHANNELS))
    helpers.assign_random_weights(layer, x.shape, np.random.default_rng(1))
    seen = helpers.dependence(layer, x)  # (t_in, t_out): output t_out changes with input t_in
    t_in, t_out = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    assert not np.any(seen & (t_in > t_out)), "an output depends on a later input"
    assert np.all(seen[t_out == t_in]), "an output does not see its own step"


# ------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [cl.MultiChannelConv, cl.SharedConv, cl.LocallyConnected], ids=lambda c: c.__name__)
def test_causal_is_for_sequences(cls):
    args = () if cls is cl.SharedConv else (2,)
    with pytest.raises(ValueError, match=re.escape(
        "padding='causal' (the output at step t sees only the inputs up to t) is defined for sequences, "
        "the 1D layers. Expected one of ['same', 'valid']. Received: padding='causal'"
    )):
        cls(*args, 3, padding="causal")


@pytest.mark.parametrize("bad", ("NCHW", "channels-first", 1))
def test_bad_data_format(bad):
    with pytest.raises(ValueError, match=re.escape(
        f"Invalid value for argument `data_format`. Expected one of ['channels_last', 'channels_first']. "
        f"Received: data_format={bad!r}"
    )):
        cl.MultiChannelConv(2, 3, data_format=bad)


@pytest.mark.parametrize("bad, error", ((0, ValueError), ((2, 0), ValueError), (1.5, TypeError), ((1, 2, 3), ValueError)))
def test_bad_dilation_rate(bad, error):
    with pytest.raises(error, match=re.escape(f"argument `dilation_rate`. Expected a positive integer or a tuple of "
                                              f"2 positive integers. Received: dilation_rate={bad!r}")):
        cl.SharedConv(3, dilation_rate=bad)


def test_dilation_needs_a_window():
    with pytest.raises(ValueError, match=re.escape(
        "`SharedConv` with a whole-input window (neither `kernel_size` nor `delta`) already sees every pixel: "
        "`dilation_rate` needs a kernel_size or delta. Received: dilation_rate=2"
    )):
        cl.SharedConv(dilation_rate=2)


def test_dilated_window_larger_than_the_input_is_named():
    layer = cl.MultiChannelConv(2, 3, padding="valid", dilation_rate=3)
    message = ("`MultiChannelConv` with kernel_size=(3, 3), dilation_rate=(3, 3), strides=(1, 1) and padding='valid' "
               "would produce an empty output: the window is larger than the input. Received: input_shape=(None, 6, 6, 1)")
    with pytest.raises(ValueError, match=re.escape(message)):
        layer.build((None, 6, 6, 1))
    with pytest.raises(ValueError, match=re.escape(message)):
        cl.count_params(cl.MultiChannelConv, (6, 6, 1), filters=2, kernel_size=3, padding="valid", dilation_rate=3)


def test_channels_first_errors_name_the_layout():
    with pytest.raises(ValueError, match=re.escape(
        "`SharedConv` expects inputs of rank 4, (batch, channels, height, width). Received: input_shape=(2, 3, 5)"
    )):
        cl.SharedConv(3, data_format="channels_first").build((2, 3, 5))
    with pytest.raises(ValueError, match=re.escape(
        "`MultiChannelConv1D` needs a known number of channels (axis 1, data_format='channels_first'). "
        "Received: input_shape=(None, None, 8)"
    )):
        cl.MultiChannelConv1D(2, 3, data_format="channels_first").build((None, None, 8))

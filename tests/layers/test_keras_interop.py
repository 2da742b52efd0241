"""The same weights give the same outputs as Keras's own layers.

- MultiChannelConv / MultiChannelConv1D = `keras.layers.Conv2D` / `Conv1D`;
- SharedConv / SharedConv1D = `keras.layers.DepthwiseConv2D` /
  `DepthwiseConv1D` with depth_multiplier=1;
- FullyConnected2D / 1D = `keras.layers.Dense` on the flattened input, with
  the kernel reshaped to (H·W·C, H'·W'·F);
- LocallyConnected / LocallyConnected1D = tf-keras's `LocallyConnected2D` /
  `LocallyConnected1D` (implementation=1, padding="valid" only), weights moved
  both ways; our "same" padding = tf-keras on an input zero-padded by the
  same amounts;
- padding_mode reflect/symmetric/circular = `np.pad(mode=reflect/symmetric/
  wrap)` followed by the built-in layer with padding="valid".

tf-keras is a separate package on TensorFlow, so it runs under either Keras 3
backend; everything is compared as numpy arrays, atol = rtol = 1e-5.
"""

import itertools

import keras
import numpy as np
import pytest

import constrained_layers as cl
from tests.layers import helpers, reference

tf_keras = pytest.importorskip("tf_keras")

BATCH = 2
SPATIAL = {1: (11,), 2: (7, 6)}
CHANNELS = 3
FILTERS = 2
KERNELS = {1: (3, 4), 2: (3, (2, 3))}  # odd, and even/asymmetric


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def _shapes(weights):
    return [tuple(w.shape) for w in weights]


def _ids(kernel_size, strides, padding):
    text = "x".join(map(str, kernel_size)) if isinstance(kernel_size, tuple) else str(kernel_size)
    return f"ks{text}-s{strides}-{padding}"


def _np_padded(x, kernel_size, strides, mode):
    """x padded as "same" pads it, by np.pad (independent of the layers)."""
    rank = x.ndim - 2
    window = reference.window_from(kernel_size=kernel_size, rank=rank)
    return reference.pad(x, window, (strides,) * rank, "same", mode)


# --------------------------------------------------- conv families vs Keras
CONV_PAIRS = {
    "MultiChannelConv-Conv2D": (
        2,
        cl.MultiChannelConv,
        lambda **kw: keras.layers.Conv2D(FILTERS, kernel_initializer="zeros", **kw),
    ),
    "MultiChannelConv1D-Conv1D": (
        1,
        cl.MultiChannelConv1D,
        lambda **kw: keras.layers.Conv1D(FILTERS, kernel_initializer="zeros", **kw),
    ),
    "SharedConv-DepthwiseConv2D": (
        2,
        cl.SharedConv,
        lambda **kw: keras.layers.DepthwiseConv2D(depth_multiplier=1, depthwise_initializer="zeros", **kw),
    ),
    "SharedConv1D-DepthwiseConv1D": (
        1,
        cl.SharedConv1D,
        lambda **kw: keras.layers.DepthwiseConv1D(depth_multiplier=1, depthwise_initializer="zeros", **kw),
    ),
}
# (Zero initializers only to skip a random draw: the weights are set below.)


def _ours(cls, **kwargs):
    if cls in (cl.MultiChannelConv, cl.MultiChannelConv1D, cl.LocallyConnected, cl.LocallyConnected1D):
        kwargs["filters"] = FILTERS
    return cls(**kwargs, **helpers.FAST_INIT)


def _conv_cases():
    for pair, (rank, _, _) in CONV_PAIRS.items():
        for kernel_size, strides, padding in itertools.product(KERNELS[rank], (1, 2), ("same", "valid")):
            yield pytest.param(pair, kernel_size, strides, padding, id=f"{pair}-{_ids(kernel_size, strides, padding)}")


@pytest.mark.parametrize("pair, kernel_size, strides, padding", _conv_cases())
def test_conv_layers_match_keras(pair, kernel_size, strides, padding):
    rank, ours_cls, theirs_cls = CONV_PAIRS[pair]
    rng = np.random.default_rng(helpers.seed_of(pair, kernel_size, strides, padding))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    config = dict(kernel_size=kernel_size, strides=strides, padding=padding)
    ours = _ours(ours_cls, **config)
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    theirs = theirs_cls(**config)
    theirs.build(x.shape)
    assert _shapes(theirs.get_weights()) == _shapes(weights)
    theirs.set_weights(weights)
    expected = helpers.run(theirs, x)
    actual = helpers.run(ours, x)
    assert actual.shape == expected.shape
    _close(actual, expected)


def _boundary_cases():
    for pair, (rank, _, _) in CONV_PAIRS.items():
        for mode, strides in itertools.product(("reflect", "symmetric", "circular"), (1, 2)):
            kernel_size = KERNELS[rank][strides - 1]  # stride 2 with the even kernel: uneven padding
            case_id = f"{pair}-{mode}-{_ids(kernel_size, strides, 'same')}"
            yield pytest.param(pair, mode, kernel_size, strides, id=case_id)


@pytest.mark.parametrize("pair, mode, kernel_size, strides", _boundary_cases())
def test_padding_modes_equal_np_pad_then_keras_valid(pair, mode, kernel_size, strides):
    rank, ours_cls, theirs_cls = CONV_PAIRS[pair]
    rng = np.random.default_rng(helpers.seed_of(pair, mode, kernel_size, strides))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    ours = _ours(ours_cls, kernel_size=kernel_size, strides=strides, padding="same", padding_mode=mode)
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    padded = _np_padded(x, kernel_size, strides, mode)
    theirs = theirs_cls(kernel_size=kernel_size, strides=strides, padding="valid")
    theirs.build(padded.shape)
    theirs.set_weights(weights)
    expected = helpers.run(theirs, padded)
    actual = helpers.run(ours, x)
    assert actual.shape == expected.shape
    _close(actual, expected)


# ------------------------------------------------------ FullyConnected/Dense
@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
@pytest.mark.parametrize("output_size", (None, "explicit"), ids=("same-size", "explicit-size"))
def test_fully_connected_equals_dense_on_flattened_input(rank, output_size):
    rng = np.random.default_rng(rank * 10 + (output_size is None))
    spatial = SPATIAL[rank]
    size = None if output_size is None else {1: 4, 2: (3, 5)}[rank]
    out = spatial if size is None else tuple(np.atleast_1d(size))
    x = helpers.random_input(rng, (BATCH, *spatial, CHANNELS))
    n_in, n_out = int(np.prod(x.shape[1:])), int(np.prod(out)) * FILTERS
    ours = {1: cl.FullyConnected1D, 2: cl.FullyConnected2D}[rank](
        filters=FILTERS, output_size=size, **helpers.FAST_INIT
    )
    kernel, bias = helpers.assign_random_weights(ours, x.shape, rng)
    dense = keras.layers.Dense(n_out, kernel_initializer="zeros")
    dense.build((None, n_in))

    # ours -> Dense: kernel (H, W, C, H', W', F) -> (H·W·C, H'·W'·F).
    dense.set_weights([kernel.reshape(n_in, n_out), bias.reshape(n_out)])
    expected = helpers.run(dense, x.reshape(BATCH, n_in)).reshape(BATCH, *out, FILTERS)
    _close(helpers.run(ours, x), expected)

    # Dense -> ours: new random Dense weights, reshaped back.
    dense_kernel = rng.uniform(-1, 1, (n_in, n_out)).astype(np.float32) / np.sqrt(n_in)
    dense_bias = rng.uniform(-1, 1, n_out).astype(np.float32)
    dense.set_weights([dense_kernel, dense_bias])
    ours.set_weights([dense_kernel.reshape(kernel.shape), dense_bias.reshape(bias.shape)])
    expected = helpers.run(dense, x.reshape(BATCH, n_in)).reshape(BATCH, *out, FILTERS)
    _close(helpers.run(ours, x), expected)


# ------------------------------------------ LocallyConnected vs tf-keras
TF_KERAS_LC = {1: tf_keras.layers.LocallyConnected1D, 2: tf_keras.layers.LocallyConnected2D}
OUR_LC = {1: cl.LocallyConnected1D, 2: cl.LocallyConnected}


def _tf_keras_lc(rank, kernel_size, strides, input_shape, **kwargs):
    layer = TF_KERAS_LC[rank](
        FILTERS, kernel_size, strides=strides, padding="valid", implementation=1, **kwargs
    )
    layer.build(input_shape)
    return layer


def _run_tf_keras(layer, x):
    return np.asarray(layer(x))


def _lc_cases():
    for rank in (1, 2):
        for kernel_size, strides in itertools.product(KERNELS[rank], (1, 2)):
            yield pytest.param(rank, kernel_size, strides, id=f"{rank}d-{_ids(kernel_size, strides, 'valid')}")


@pytest.mark.parametrize("rank, kernel_size, strides", _lc_cases())
def test_locally_connected_matches_tf_keras_both_ways(rank, kernel_size, strides):
    rng = np.random.default_rng(helpers.seed_of(rank, kernel_size, strides))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    ours = _ours(OUR_LC[rank], kernel_size=kernel_size, strides=strides, padding="valid")
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    theirs = _tf_keras_lc(
        rank, kernel_size, strides, x.shape, kernel_initializer="random_normal", bias_initializer="random_normal"
    )
    assert _shapes(theirs.get_weights()) == _shapes(weights)

    # tf-keras -> ours (its own random initialization, non-zero bias).
    their_weights = theirs.get_weights()
    assert np.all(their_weights[1] != 0)
    ours.set_weights(their_weights)
    _close(helpers.run(ours, x), _run_tf_keras(theirs, x))

    # ours -> tf-keras.
    ours.set_weights(weights)
    theirs.set_weights(ours.get_weights())
    _close(_run_tf_keras(theirs, x), helpers.run(ours, x))
    expected = reference.locally_connected(x, *weights, kernel_size=kernel_size, strides=strides, padding="valid")
    _close(helpers.run(ours, x), expected)


def _lc_same_cases():
    for rank in (1, 2):
        for kernel_size, strides, mode in itertools.product(
            KERNELS[rank], (1, 2), ("zeros", "reflect", "symmetric", "circular")
        ):
            if mode != "zeros" and (kernel_size, strides) != (KERNELS[rank][1], 2):
                continue  # other modes: the even kernel with stride 2 (uneven padding)
            case_id = f"{rank}d-{mode}-{_ids(kernel_size, strides, 'same')}"
            yield pytest.param(rank, kernel_size, strides, mode, id=case_id)


@pytest.mark.parametrize("rank, kernel_size, strides, mode", _lc_same_cases())
def test_locally_connected_same_equals_tf_keras_on_padded_input(rank, kernel_size, strides, mode):
    rng = np.random.default_rng(helpers.seed_of(rank, kernel_size, strides, mode))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], CHANNELS))
    ours = _ours(OUR_LC[rank], kernel_size=kernel_size, strides=strides, padding="same", padding_mode=mode)
    weights = helpers.assign_random_weights(ours, x.shape, rng)
    padded = _np_padded(x, kernel_size, strides, mode)
    theirs = _tf_keras_lc(rank, kernel_size, strides, padded.shape)
    assert _shapes(theirs.get_weights()) == _shapes(weights)
    theirs.set_weights(weights)
    expected = _run_tf_keras(theirs, padded)
    actual = helpers.run(ours, x)
    assert actual.shape == expected.shape == (BATCH, *(-(-n // strides) for n in SPATIAL[rank]), FILTERS)
    _close(actual, expected)

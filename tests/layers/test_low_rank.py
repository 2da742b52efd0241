"""LowRankLocallyConnected(1D): the reference, both limits, initialization, arguments.

- Against the numpy reference written from the equation
  (`reference.low_rank_locally_connected`: each position's kernel
  Σ_r w[p,r] V_r formed, then applied), over windows, strides, dilation,
  padding, every padding mode, the flip, the FFT path and no bias.
- The two ends of §7.1 it lies between, exactly: R = 1 with w = 1 is
  `MultiChannelConv` with the same kernel and bias (any constant w: the
  convolution with kernel Σ_r w_r V_r); R = number of output positions with
  one-hot w is `LocallyConnected` with kernel V_p and bias u_p at position p.
- Initialization: a convolution (mixing weights 1/√R) at the convolution's
  scale (Glorot with the convolution's fans for each V_r).
- `num_kernels` validation, the `.keras` round trip of its config, a
  training step that moves every weight.

`run_layer_test` (config, serialization, shapes, weights, count_params,
training, mixed precision) runs on these layers in test_layers.py, the
`count_params` equations in test_counting.py, the shared argument errors in
test_errors.py. Every weight is assigned seeded random values (the bias and
mixing weights included) before outputs are compared; tolerance
`helpers.ATOL`/`RTOL` against the reference and `LocallyConnected` (other
summation orders), 1e-6 against `MultiChannelConv` (the same convolution).
"""

import math
import re

import keras
import numpy as np
import pytest

import constrained_layers as cl
from tests.layers import helpers, reference

SHAPES = {1: (2, 11, 2), 2: (2, 7, 6, 3)}
LOW_RANK = {1: cl.LowRankLocallyConnected1D, 2: cl.LowRankLocallyConnected}
CONV = {1: cl.MultiChannelConv1D, 2: cl.MultiChannelConv}
LOCAL = {1: cl.LocallyConnected1D, 2: cl.LocallyConnected}
FILTERS = 2


def _id(rank, kwargs):
    return f"{rank}d-" + ",".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")


def _input(rank, seed, data_format="channels_last"):
    """A seeded input of SHAPES[rank], in `data_format`."""
    x = helpers.random_input(np.random.default_rng(seed), SHAPES[rank])
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


def _set(layer, input_shape, **values):
    """Builds `layer` and assigns its weights by name (kernel, bias, mixing)."""
    if not layer.built:
        layer.build(tuple(input_shape))
    for variable in layer.weights:
        name = variable.path.split("/")[-1]
        variable.assign(np.asarray(values[name], dtype="float32").reshape(tuple(variable.shape)))


def _random_weights(layer, input_shape, rng):
    """Builds `layer`, assigns seeded random weights (`helpers.assign_random_weights`)
    and returns them by name: {"kernel": ..., "bias": ..., "mixing": ...}."""
    values = helpers.assign_random_weights(layer, input_shape, rng)
    return {variable.path.split("/")[-1]: value for variable, value in zip(layer.weights, values)}


# ------------------------------------------------------------- the reference
REFERENCE_CASES = [
    (2, {"delta": 1, "num_kernels": 3}),
    (2, {"kernel_size": (2, 3), "strides": 2, "padding_mode": "symmetric", "convolution": True, "use_bias": False,
         "num_kernels": 2}),
    (2, {"delta": 1, "padding": "valid", "dilation_rate": 2, "num_kernels": 4}),
    (2, {"kernel_size": 3, "strides": 2, "dilation_rate": (2, 1), "padding_mode": "circular", "num_kernels": 2}),
    (2, {"delta": 2, "implementation": "fft", "padding_mode": "reflect", "convolution": True, "num_kernels": 2}),
    (1, {"delta": 2, "padding_mode": "reflect", "num_kernels": 3}),
    (1, {"kernel_size": 4, "strides": 2, "padding": "valid", "convolution": True, "dilation_rate": 2,
         "num_kernels": 2}),
    (1, {"kernel_size": 3, "implementation": "fft", "padding_mode": "circular", "use_bias": False, "num_kernels": 1}),
]


@pytest.mark.parametrize("rank, kwargs", REFERENCE_CASES, ids=[_id(r, k) for r, k in REFERENCE_CASES])
def test_matches_the_reference(rank, kwargs):
    keras.utils.set_random_seed(0)
    seed = helpers.seed_of(rank, kwargs)
    x = _input(rank, seed)
    layer = LOW_RANK[rank](FILTERS, **kwargs, **helpers.FAST_INIT)
    w = _random_weights(layer, x.shape, np.random.default_rng(seed + 1))
    expected = reference.low_rank_locally_connected(
        x, w["kernel"], w["mixing"], w.get("bias"), strides=kwargs.get("strides", 1),
        padding=kwargs.get("padding", "same"), padding_mode=kwargs.get("padding_mode", "zeros"),
        convolution=kwargs.get("convolution", False), dilation_rate=kwargs.get("dilation_rate", 1),
    )
    actual = helpers.run(layer, x)
    assert actual.shape == expected.shape == (x.shape[0], *w["mixing"].shape[:-1], FILTERS)
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def test_the_reference_forms_each_kernel_from_the_equation():
    """The reference itself, on numbers small enough to check by hand: one
    channel, kernels [1, 0, 0] (take the left neighbour) and [0, 0, 1] (the
    right one), bias 10 and 20, positions mixing them as (1, 0), (0, 1),
    (0.5, 0.5)."""
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    kernel = np.stack([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], axis=-1).reshape(3, 1, 2, 1)  # (k, C, R, F)
    mixing = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    bias = np.array([[10.0], [20.0]])
    y = reference.low_rank_locally_connected(x, kernel, mixing, bias)
    # Zero padding: x_{-1} = x_3 = 0. Position 0: left neighbour 0 + 10;
    # position 1: right neighbour 3 + 20; position 2: (2 + 0)/2 + 15.
    np.testing.assert_array_equal(y[0, :, 0], [10.0, 23.0, 16.0])


# ----------------------------------------------------------------- the limits
LIMIT_CASES = [
    (2, {"kernel_size": 3}),
    (2, {"delta": 1, "strides": 2, "padding_mode": "reflect", "convolution": True}),
    (2, {"kernel_size": (2, 3), "padding": "valid", "dilation_rate": (1, 2)}),
    (2, {"delta": 1, "strides": 2, "dilation_rate": 2, "padding_mode": "circular"}),
    (2, {"kernel_size": 3, "data_format": "channels_first", "use_bias": False, "activation": "tanh"}),
    (1, {"kernel_size": 4, "padding": "causal", "dilation_rate": 2}),
    (1, {"delta": 2, "strides": 3, "padding_mode": "symmetric", "convolution": True}),
    (1, {"kernel_size": 3, "data_format": "channels_first", "padding_mode": "circular"}),
]
CONV_ONLY_CASES = [
    (2, {"kernel_size": 5, "implementation": "fft", "padding_mode": "reflect"}),
    (1, {"delta": 1, "implementation": "fft", "strides": 2}),
]


@pytest.mark.parametrize("rank, kwargs", LIMIT_CASES + CONV_ONLY_CASES,
                         ids=[_id(r, k) for r, k in LIMIT_CASES + CONV_ONLY_CASES])
def test_one_kernel_with_constant_mixing_is_multi_channel_conv(rank, kwargs):
    """R = 1, w = 1 everywhere: eq. (7.1.7) with kernel V_1 and bias u_1."""
    keras.utils.set_random_seed(0)
    seed = helpers.seed_of("conv", rank, kwargs)
    x = _input(rank, seed, kwargs.get("data_format", "channels_last"))
    conv = CONV[rank](FILTERS, **kwargs, **helpers.FAST_INIT)
    w = _random_weights(conv, x.shape, np.random.default_rng(seed + 1))
    low_rank = LOW_RANK[rank](FILTERS, num_kernels=1, **kwargs, **helpers.FAST_INIT)
    low_rank.build(x.shape)
    mixing = np.ones(tuple(low_rank.mixing.shape))
    _set(low_rank, x.shape, mixing=mixing, **w)  # kernel (*K, C, F) as (*K, C, 1, F); bias (F,) as (1, F)
    np.testing.assert_allclose(helpers.run(low_rank, x), helpers.run(conv, x), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("rank, kwargs", LIMIT_CASES, ids=[_id(r, k) for r, k in LIMIT_CASES])
def test_one_kernel_per_position_with_one_hot_mixing_is_locally_connected(rank, kwargs):
    """R = P positions, w[p, r] = [r = p]: kernel V_p and bias u_p at position p."""
    keras.utils.set_random_seed(0)
    seed = helpers.seed_of("local", rank, kwargs)
    x = _input(rank, seed, kwargs.get("data_format", "channels_last"))
    local = LOCAL[rank](FILTERS, **kwargs, **helpers.FAST_INIT)
    w = _random_weights(local, x.shape, np.random.default_rng(seed + 1))
    positions = w["kernel"].shape[0]
    low_rank = LOW_RANK[rank](FILTERS, num_kernels=positions, **kwargs, **helpers.FAST_INIT)
    low_rank.build(x.shape)
    window = low_rank.kernel.shape[:rank]
    channels = low_rank.kernel.shape[rank]
    # LocallyConnected's kernel[p] is V_p as (kh·kw·C, F), row-major: ours is
    # V_r = kernel[..., r, :] of shape (*K, C, F).
    kernels = np.moveaxis(w["kernel"].reshape(positions, *window, channels, FILTERS), 0, -2)  # (*K, C, P, F)
    values = {"kernel": kernels, "mixing": np.eye(positions)}  # (*out, P) flattened row-major
    if "bias" in w:
        values["bias"] = w["bias"].reshape(positions, FILTERS)  # u_p, row-major
    _set(low_rank, x.shape, **values)
    np.testing.assert_allclose(helpers.run(low_rank, x), helpers.run(local, x), atol=helpers.ATOL, rtol=helpers.RTOL)


@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_constant_mixing_is_the_convolution_of_the_combined_kernel(rank):
    """The same w at every position: one shared kernel Σ_r w_r V_r, bias Σ_r w_r u_r."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(helpers.seed_of("combined", rank))
    x = _input(rank, 7)
    low_rank = LOW_RANK[rank](FILTERS, delta=1, num_kernels=3, padding_mode="reflect", **helpers.FAST_INIT)
    w = _random_weights(low_rank, x.shape, rng)
    weights = rng.uniform(-1, 1, 3).astype("float32")
    _set(low_rank, x.shape, **{**w, "mixing": np.broadcast_to(weights, w["mixing"].shape)})
    conv = CONV[rank](FILTERS, delta=1, padding_mode="reflect", **helpers.FAST_INIT)
    combined = np.einsum("...rf,r->...f", w["kernel"], weights)  # Σ_r w_r V_r: (*K, C, F)
    _set(conv, x.shape, kernel=combined, bias=weights @ w["bias"])  # bias Σ_r w_r u_r: (F,)
    np.testing.assert_allclose(helpers.run(low_rank, x), helpers.run(conv, x), atol=helpers.ATOL, rtol=helpers.RTOL)


# ------------------------------------------------------------- initialization
def test_initialization_is_a_convolution_at_the_convolutions_scale():
    """Mixing weights 1/√R: the layer starts as the convolution with kernel
    Σ_r V_r / √R, whose variance is one Glorot kernel's, each V_r drawn with
    the convolution's fans (kh·kw·C in, kh·kw·filters out)."""
    keras.utils.set_random_seed(0)
    rank_r, filters, channels = 4, 32, 16
    layer = cl.LowRankLocallyConnected(filters, 3, num_kernels=rank_r)
    x = helpers.random_input(np.random.default_rng(3), (2, 7, 6, channels))
    layer.build(x.shape)
    mixing = keras.ops.convert_to_numpy(layer.mixing)
    np.testing.assert_allclose(mixing, np.full((7, 6, rank_r), 1 / math.sqrt(rank_r)), rtol=1e-7)
    kernel = keras.ops.convert_to_numpy(layer.kernel)  # (3, 3, C, R, F)
    glorot_std = math.sqrt(2.0 / (9 * channels + 9 * filters))
    assert np.std(kernel) == pytest.approx(glorot_std, rel=0.05)
    combined = kernel.sum(axis=-2) / math.sqrt(rank_r)  # the kernel at every position
    assert np.std(combined) == pytest.approx(glorot_std, rel=0.05)
    conv = cl.MultiChannelConv(filters, 3, kernel_initializer="zeros")
    _set(conv, x.shape, kernel=combined, bias=np.zeros(filters))
    np.testing.assert_allclose(helpers.run(layer, x), helpers.run(conv, x), atol=helpers.ATOL, rtol=helpers.RTOL)


def test_mixing_initializer_can_be_set():
    keras.utils.set_random_seed(0)
    layer = cl.LowRankLocallyConnected1D(2, 3, num_kernels=3, mixing_initializer="ones", kernel_initializer="zeros")
    layer.build((None, 5, 1))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.mixing), np.ones((5, 3)))
    assert layer.get_config()["mixing_initializer"]["class_name"] == "Ones"


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize("layer_cls", (cl.LowRankLocallyConnected, cl.LowRankLocallyConnected1D))
@pytest.mark.parametrize(
    "value, error, message",
    [
        (0, ValueError, "Invalid value for argument `num_kernels`. Expected a strictly positive value. "
                        "Received: num_kernels=0"),
        (-2, ValueError, "Received: num_kernels=-2"),
        ("2", TypeError, "Invalid type for argument `num_kernels`. Expected a positive integer. "
                         "Received: num_kernels='2' of type str"),
        (2.0, TypeError, "Received: num_kernels=2.0 of type float"),
        (True, TypeError, "Received: num_kernels=True of type bool"),
        (None, TypeError, "Received: num_kernels=None of type NoneType"),
    ],
    ids=["zero", "negative", "string", "float", "bool", "missing"],
)
def test_bad_num_kernels(layer_cls, value, error, message):
    with pytest.raises(error, match=re.escape(message)):
        layer_cls(2, 3, num_kernels=value)


def test_num_kernels_is_required():
    with pytest.raises(TypeError, match=re.escape("Received: num_kernels=None")):
        cl.LowRankLocallyConnected(2, 3)


@pytest.mark.parametrize("layer_cls", (cl.LowRankLocallyConnected, cl.LowRankLocallyConnected1D))
def test_weight_shapes_follow_the_output_positions(layer_cls):
    rank = 1 if layer_cls is cl.LowRankLocallyConnected1D else 2
    layer = layer_cls(5, 3, strides=2, num_kernels=4, padding="valid")
    input_shape = (None, *(9,) * rank, 3)
    out = (4,) * rank  # (9 - 3)//2 + 1
    assert layer.weight_shapes(input_shape) == {
        "kernel": (*(3,) * rank, 3, 4, 5), "bias": (4, 5), "mixing": (*out, 4)
    }
    assert tuple(layer.compute_output_shape(input_shape)) == (None, *out, 5)


def test_keras_file_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 2))
    x = cl.LowRankLocallyConnected(3, delta=1, num_kernels=3, padding_mode="symmetric", convolution=True,
                                   mixing_regularizer="l2", mixing_initializer="ones", name="low_rank",
                                   **helpers.FAST_INIT)(inputs)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    data = helpers.random_input(rng, (2, 8, 8, 2))
    expected = keras.ops.convert_to_numpy(model(data))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    layer = loaded.get_layer("low_rank")
    assert type(layer) is cl.LowRankLocallyConnected
    assert (layer.num_kernels, layer.padding_mode, layer.convolution) == (3, "symmetric", True)
    assert layer.mixing_regularizer is not None
    assert layer.get_config() == model.get_layer("low_rank").get_config()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(data)), expected, rtol=0, atol=1e-6)


def test_training_moves_every_weight_towards_a_locally_connected_target():
    """Fitting a target that no convolution computes (a different map on
    each half of the sequence) lowers the loss, and every weight moves."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12, 1)).astype("float32")
    target = np.concatenate([x[:, :6], -2 * x[:, 6:]], axis=1)  # (64, 12, 1)
    layer = cl.LowRankLocallyConnected1D(1, 1, num_kernels=2)
    model = keras.Sequential([keras.Input((12, 1)), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    before = [keras.ops.convert_to_numpy(w).copy() for w in layer.weights]
    history = model.fit(x, target, batch_size=64, epochs=60, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.05 * losses[0], losses[::10]
    for w, old in zip(layer.weights, before):
        assert not np.array_equal(keras.ops.convert_to_numpy(w), old), w.path

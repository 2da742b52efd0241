"""LowRankLocallyConnected(1D)'s options from Elsayed et al. (2020): softmax, row × column, convolution init.

- Numerics: against the numpy reference written from each option's
  equation (`reference.low_rank_mixing` for w, then
  `reference.low_rank_locally_connected`), every weight seeded random,
  tolerance `helpers.ATOL`/`RTOL`; the reference itself on numbers checked
  by hand.
- Initialization, for every option combination and both ranks: every
  position starts with the same w (the documented constants), so shifting
  the input shifts the output away from the boundary (zero padding); a
  random mixing initialization breaks it (the check can fail). Under the
  softmax, the starting kernel has the convolution's Glorot scale.
- Arguments: each bad value and bad combination is refused with a message
  naming the argument and the value.
- Serialization: `.keras` round trip with the options; the default layer's
  config has no new keys (so saved models and their fingerprints are
  unchanged) and a config without them loads as the default.

Parameter counts for each option are in test_counting.py; `run_layer_test`
(config, serialization, shapes, weights, training, mixed precision) on the
options in test_layers.py.
"""

import itertools
import math
import re

import keras
import numpy as np
import pytest

import constrained_layers as cl
from tests.layers import helpers, reference

LOW_RANK = {1: cl.LowRankLocallyConnected1D, 2: cl.LowRankLocallyConnected}
FILTERS = 2
COMBINATIONS = [
    (rank, normalization, factorization)
    for rank in (1, 2)
    for normalization in (None, "softmax")
    for factorization in ((None, "row_column") if rank == 2 else (None,))
]
COMBINATION_IDS = [f"{r}d-{n}-{f}" for r, n, f in COMBINATIONS]


def _options(normalization, factorization):
    return {"mixing_normalization": normalization, "mixing_factorization": factorization}


def _by_name(layer, values):
    return {variable.path.split("/")[-1]: value for variable, value in zip(layer.weights, values)}


# ------------------------------------------------------------- the reference
def test_the_reference_mixing_by_hand():
    np.testing.assert_allclose(
        reference.low_rank_mixing({"mixing": np.array([[0.0, math.log(3.0)]])}, "softmax"), [[0.25, 0.75]]
    )
    rows, columns = np.array([[1.0], [2.0]]), np.array([[10.0], [20.0], [30.0]])  # R = 1
    theta = reference.low_rank_mixing({"mixing_rows": rows, "mixing_columns": columns}, None, "row_column")
    np.testing.assert_array_equal(theta[..., 0], [[11.0, 21.0, 31.0], [12.0, 22.0, 32.0]])
    w = reference.low_rank_mixing({"mixing_rows": np.log([[1.0, 3.0]]), "mixing_columns": np.log([[1.0, 1.0]])},
                                  "softmax", "row_column")
    np.testing.assert_allclose(w, [[[0.25, 0.75]]])


REFERENCE_CASES = [
    (1, (2, 11, 2), {"delta": 1, "num_kernels": 3, "mixing_normalization": "softmax"}),
    (1, (2, 11, 2), {"kernel_size": 4, "strides": 2, "padding": "valid", "convolution": True, "num_kernels": 2,
                     "mixing_normalization": "softmax", "use_bias": False}),
    (2, (2, 7, 6, 3), {"delta": 1, "num_kernels": 3, "mixing_normalization": "softmax"}),
    (2, (2, 7, 6, 3), {"delta": 1, "num_kernels": 3, "mixing_factorization": "row_column",
                       "padding_mode": "circular"}),
    (2, (2, 7, 6, 3), {"kernel_size": (2, 3), "strides": 2, "num_kernels": 4, "mixing_normalization": "softmax",
                       "mixing_factorization": "row_column", "padding_mode": "reflect"}),
    (2, (2, 7, 6, 3), {"delta": 1, "padding": "valid", "dilation_rate": (1, 2), "convolution": True,
                       "num_kernels": 2, "mixing_normalization": "softmax", "mixing_factorization": "row_column",
                       "data_format": "channels_first"}),
]


@pytest.mark.parametrize("rank, shape, kwargs", REFERENCE_CASES,
                         ids=[f"{r}d-{i}" for i, (r, _, _) in enumerate(REFERENCE_CASES)])
def test_options_match_the_reference(rank, shape, kwargs):
    keras.utils.set_random_seed(0)
    seed = helpers.seed_of("options", rank, kwargs)
    x = helpers.random_input(np.random.default_rng(seed), shape)  # channels last
    channels_first = kwargs.get("data_format") == "channels_first"
    layer_input = np.moveaxis(x, -1, 1) if channels_first else x
    layer = LOW_RANK[rank](FILTERS, **kwargs, **helpers.FAST_INIT)
    w = _by_name(layer, helpers.assign_random_weights(layer, layer_input.shape, np.random.default_rng(seed + 1)))
    mixing = reference.low_rank_mixing(
        w, kwargs.get("mixing_normalization"), kwargs.get("mixing_factorization")
    )  # (*out, R)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer.mixing_weights()), mixing, atol=1e-6, rtol=1e-6)
    expected = reference.low_rank_locally_connected(
        x, w["kernel"], mixing, w.get("bias"), strides=kwargs.get("strides", 1),
        padding=kwargs.get("padding", "same"), padding_mode=kwargs.get("padding_mode", "zeros"),
        convolution=kwargs.get("convolution", False), dilation_rate=kwargs.get("dilation_rate", 1),
    )
    actual = helpers.run(layer, layer_input)
    if channels_first:
        actual = np.moveaxis(actual, 1, -1)
    assert actual.shape == expected.shape == (shape[0], *mixing.shape[:-1], FILTERS)
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


# ------------------------------------------------------------- initialization
SPATIAL = {1: (16,), 2: (10, 9)}
SHIFTS = {1: (3,), 2: (2, -1)}
DELTA = 1


def _shifted_outputs(layer, rank):
    """(outputs on x and on x shifted by SHIFTS[rank], compared where neither window meets the boundary)."""
    x = helpers.random_input(np.random.default_rng(5), (1, *SPATIAL[rank], 2))
    shift = SHIFTS[rank]
    x_shifted = np.roll(x, shift, axis=tuple(range(1, rank + 1)))
    y = helpers.run(layer, x)
    y_shifted = helpers.run(layer, x_shifted)
    # Output i of the shifted input sees x[i - s - Δ .. i - s + Δ] when its
    # window avoids the rolled-in part and the padding: compare y'[i] with y[i - s].
    ranges = [range(max(s, 0) + DELTA, n + min(s, 0) - DELTA) for n, s in zip(SPATIAL[rank], shift)]
    index = list(itertools.product(*ranges))
    assert len(index) >= 10
    ahead = np.array([y_shifted[(0, *i)] for i in index])
    behind = np.array([y[(0, *(a - s for a, s in zip(i, shift)))] for i in index])
    return ahead, behind


@pytest.mark.parametrize("rank, normalization, factorization", COMBINATIONS, ids=COMBINATION_IDS)
def test_initialization_is_translation_equivariant(rank, normalization, factorization):
    """At step 0 every position has the same kernel: a shift of the input
    shifts the output (away from the boundary). With random mixing weights
    it does not, so the check can fail."""
    keras.utils.set_random_seed(0)
    options = dict(_options(normalization, factorization), delta=DELTA, num_kernels=3,
                   bias_initializer=keras.initializers.RandomNormal(seed=1))
    layer = LOW_RANK[rank](FILTERS, **options)
    ahead, behind = _shifted_outputs(layer, rank)
    assert np.abs(behind).max() > 0.1
    np.testing.assert_allclose(ahead, behind, atol=helpers.ATOL, rtol=helpers.RTOL)
    w = keras.ops.convert_to_numpy(layer.mixing_weights())  # (*out, R)
    expected = 1 / 3 if normalization == "softmax" else 1 / math.sqrt(3)
    np.testing.assert_allclose(w, np.full(w.shape, expected), rtol=1e-6)

    random = LOW_RANK[rank](FILTERS, **options, mixing_initializer=keras.initializers.RandomNormal(1.0, seed=2))
    ahead, behind = _shifted_outputs(random, rank)
    assert not np.allclose(ahead, behind, atol=0.01), "random mixing weights should break equivariance"


@pytest.mark.parametrize(
    "normalization, factorization, value",
    [(None, None, 1 / 2), (None, "row_column", 1 / 4), ("softmax", None, 0.0), ("softmax", "row_column", 0.0)],
)
def test_convolution_initializer_constants(normalization, factorization, value):
    """θ = 1/√R (each factor 1/(2√R)), or 0 under the softmax; "convolution" spelled out is the default."""
    for initializer in (None, "convolution"):
        layer = cl.LowRankLocallyConnected(2, 3, num_kernels=4, mixing_initializer=initializer,
                                           **_options(normalization, factorization), **helpers.FAST_INIT)
        layer.build((None, 5, 4, 1))
        assert len(layer.weights) == (4 if factorization else 3)
        for variable in layer.weights[2:]:
            np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), value, rtol=1e-7)
        assert layer.get_config()["mixing_initializer"]["config"]["value"] == pytest.approx(value)


@pytest.mark.parametrize("factorization", (None, "row_column"))
def test_softmax_initialization_has_the_convolutions_scale(factorization):
    """w = 1/R at every position: each V_r drawn with R times the Glorot
    variance, so that their mean has one Glorot kernel's."""
    keras.utils.set_random_seed(0)
    rank_r, filters, channels = 4, 32, 16
    layer = cl.LowRankLocallyConnected(filters, 3, num_kernels=rank_r, mixing_normalization="softmax",
                                       mixing_factorization=factorization)
    layer.build((None, 7, 6, channels))
    kernel = keras.ops.convert_to_numpy(layer.kernel)  # (3, 3, C, R, F)
    glorot_std = math.sqrt(2.0 / (9 * channels + 9 * filters))
    assert np.std(kernel) == pytest.approx(glorot_std * math.sqrt(rank_r), rel=0.05)
    assert np.std(kernel.mean(axis=-2)) == pytest.approx(glorot_std, rel=0.05)


# ------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "layer_cls, kwargs, message",
    [
        (cl.LowRankLocallyConnected, {"mixing_normalization": "l2"},
         "Invalid value for argument `mixing_normalization`. Expected one of [None, 'softmax']. "
         "Received: mixing_normalization='l2'"),
        (cl.LowRankLocallyConnected1D, {"mixing_normalization": True},
         "Received: mixing_normalization=True"),
        (cl.LowRankLocallyConnected, {"mixing_factorization": "rows"},
         "Invalid value for argument `mixing_factorization`. Expected one of [None, 'row_column']. "
         "Received: mixing_factorization='rows'"),
        (cl.LowRankLocallyConnected1D, {"mixing_factorization": "row_column"},
         "Invalid value for argument `mixing_factorization`. `LowRankLocallyConnected1D` has 1 spatial axis"),
        (cl.LowRankLocallyConnected1D, {"mixing_factorization": "row_column"},
         "Expected None. Received: mixing_factorization='row_column'"),
        (cl.LowRankLocallyConnected, {"mixing_normalization": "softmax", "num_kernels": 1},
         "Invalid combination of arguments `mixing_normalization` and `num_kernels`"),
        (cl.LowRankLocallyConnected, {"mixing_normalization": "softmax", "num_kernels": 1},
         "Received: mixing_normalization='softmax', num_kernels=1"),
        (cl.LowRankLocallyConnected, {"mixing_initializer": "convolutional"},
         "convolutional"),
    ],
)
def test_bad_options(layer_cls, kwargs, message):
    kwargs = {"num_kernels": 2, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        layer_cls(2, 3, **kwargs)


# -------------------------------------------------------------- serialization
def test_keras_file_round_trip_with_the_options(tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 7, 2))
    x = cl.LowRankLocallyConnected(3, delta=1, num_kernels=3, mixing_normalization="softmax",
                                   mixing_factorization="row_column", mixing_regularizer="l2", name="paper",
                                   **helpers.FAST_INIT)(inputs)
    model = keras.Model(inputs, x)
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    data = helpers.random_input(rng, (2, 8, 7, 2))
    expected = keras.ops.convert_to_numpy(model(data))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    layer = loaded.get_layer("paper")
    assert (layer.mixing_normalization, layer.mixing_factorization) == ("softmax", "row_column")
    assert [v.path.split("/")[-1] for v in layer.weights] == ["kernel", "bias", "mixing_rows", "mixing_columns"]
    assert layer.get_config() == model.get_layer("paper").get_config()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(data)), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("rank", (1, 2))
def test_default_config_is_unchanged_and_old_configs_load_as_the_default(rank):
    layer = LOW_RANK[rank](2, 3, num_kernels=4)
    config = layer.get_config()
    assert "mixing_normalization" not in config and "mixing_factorization" not in config
    assert config["mixing_initializer"]["config"] == {"value": 0.5}  # 1/√R, as before the options
    restored = LOW_RANK[rank].from_config(config)
    assert (restored.mixing_normalization, restored.mixing_factorization) == (None, None)
    softmax = LOW_RANK[rank](2, 3, num_kernels=4, mixing_normalization="softmax")
    assert softmax.get_config()["mixing_normalization"] == "softmax"
    assert LOW_RANK[rank].from_config(softmax.get_config()).get_config() == softmax.get_config()


def test_training_moves_every_factored_weight():
    """A target that differs by rows and by columns: the loss falls and the
    kernels, biases, row and column logits all move."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 6, 1)).astype("float32")
    sign = np.where(np.add.outer(np.arange(6) < 3, np.arange(6) < 3), 1.0, -1.0)[None, :, :, None]
    target = (x * sign).astype("float32")
    layer = cl.LowRankLocallyConnected(1, 1, num_kernels=2, mixing_normalization="softmax",
                                       mixing_factorization="row_column")
    model = keras.Sequential([keras.Input((6, 6, 1)), layer])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    before = [keras.ops.convert_to_numpy(w).copy() for w in layer.weights]
    losses = model.fit(x, target, batch_size=32, epochs=40, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses[::10]
    for w, old in zip(layer.weights, before):
        assert not np.array_equal(keras.ops.convert_to_numpy(w), old), w.path

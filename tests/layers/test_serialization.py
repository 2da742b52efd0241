"""Saving and loading models built from the constrained layers.

(a) A functional model of all five 2D layers (and one of the five 1D layers),
    with non-default arguments, survives a `.keras` round trip: same config,
    same weights, same outputs.
(b) TensorFlow only: `model.export` writes a SavedModel that a fresh Python
    process loads and runs with `tf.saved_model.load`, without importing
    `constrained_layers`: the layers are plain TensorFlow graphs once exported.
"""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

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

# Every weight is overwritten with random values before saving (`randomized`),
# so the kernels start at zero: a random kernel of a new shape costs an XLA
# compilation on JAX, and the initializer's config is serialized all the same.
Z = {"kernel_initializer": "zeros"}
INPUT_2D = (8, 8, 2)
INPUT_1D = (12, 2)


def model_2d():
    """(B, 8, 8, 2) -> (B, 2, 2, 2) through all five 2D layers."""
    inputs = keras.Input(INPUT_2D)
    x = MultiChannelConv(4, delta=1, padding_mode="reflect", convolution=True, activation="relu",
                         name="conv", **Z)(inputs)  # (B, 8, 8, 4)
    x = SharedConv(kernel_size=(2, 3), strides=2, padding_mode="circular", convolution=True,
                   name="shared", **Z)(x)  # (B, 4, 4, 4)
    x = SharedConv(padding_mode="symmetric", activation="tanh", name="shared_whole", **Z)(x)  # (B, 4, 4, 4)
    x = LocallyConnected(3, delta=(1, 0), padding_mode="symmetric", convolution=True,
                         activation="tanh", kernel_regularizer="l2", name="local", **Z)(x)  # (B, 4, 4, 3)
    x = LowRankLocallyConnected(3, delta=1, num_kernels=2, padding_mode="reflect", convolution=True,
                                mixing_regularizer="l2", name="low_rank", **Z)(x)  # (B, 4, 4, 3)
    outputs = FullyConnected2D(2, output_size=(2, 2), activation="sigmoid", use_bias=True,
                               max_params=1000, name="dense", **Z)(x)  # (B, 2, 2, 2)
    return keras.Model(inputs, outputs, name="all_2d")


def model_1d():
    """(B, 12, 2) -> (B, 3, 2) through all five 1D layers."""
    inputs = keras.Input(INPUT_1D)
    x = MultiChannelConv1D(3, kernel_size=4, padding_mode="circular", activation="relu",
                           name="conv", **Z)(inputs)  # (B, 12, 3)
    x = SharedConv1D(delta=2, padding_mode="reflect", convolution=True, name="shared", **Z)(x)  # (B, 12, 3)
    x = LocallyConnected1D(2, delta=1, strides=2, padding_mode="circular", convolution=True,
                           activation="elu", name="local", **Z)(x)  # (B, 6, 2)
    x = LowRankLocallyConnected1D(2, kernel_size=3, strides=2, num_kernels=3, padding_mode="symmetric",
                                  implementation="fft", name="low_rank", **Z)(x)  # (B, 3, 2)
    outputs = FullyConnected1D(2, output_size=3, use_bias=False, name="dense", **Z)(x)  # (B, 3, 2)
    return keras.Model(inputs, outputs, name="all_1d")


MODELS = [
    pytest.param(model_2d, INPUT_2D, (2, 2, 2), id="2d"),
    pytest.param(model_1d, INPUT_1D, (3, 2), id="1d"),
]


def as_json(value):
    """The value as JSON stores it: tuples become lists (e.g. build_config)."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def randomized(model, seed=0):
    """Random values in every weight (biases too), so loading is tested on all."""
    rng = np.random.default_rng(seed)
    model.set_weights([0.3 * rng.standard_normal(w.shape).astype("float32") for w in model.weights])
    return model


@pytest.mark.parametrize("build, input_shape, output_shape", MODELS)
def test_keras_file_round_trip(build, input_shape, output_shape, tmp_path):
    keras.utils.set_random_seed(0)
    model = randomized(build())
    x = np.random.default_rng(1).standard_normal((3, *input_shape)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    assert expected.shape == (3, *output_shape)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)

    assert as_json(loaded.get_config()) == as_json(model.get_config())
    assert len(loaded.layers) == len(model.layers)
    for original, revived in zip(model.layers, loaded.layers):
        assert type(revived) is type(original)
        assert as_json(revived.get_config()) == as_json(original.get_config())
    for w, v in zip(model.weights, loaded.weights):
        assert w.path == v.path
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(v), keras.ops.convert_to_numpy(w))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected, rtol=0, atol=1e-6)


def test_keras_file_keeps_the_non_default_arguments(tmp_path):
    path = tmp_path / "model.keras"
    model_2d().save(path)
    loaded = keras.saving.load_model(path)
    conv, shared, whole, local, dense = (loaded.get_layer(n) for n in ("conv", "shared", "shared_whole", "local", "dense"))
    low_rank = loaded.get_layer("low_rank")
    assert (low_rank.num_kernels, low_rank.padding_mode, low_rank.convolution) == (2, "reflect", True)
    assert low_rank.mixing_regularizer is not None and tuple(low_rank.mixing.shape) == (4, 4, 2)
    assert (conv.padding_mode, conv.convolution, conv.kernel_size) == ("reflect", True, (3, 3))
    assert (shared.padding_mode, shared.strides, shared.kernel_size) == ("circular", (2, 2), (2, 3))
    assert whole.kernel_size is None and tuple(whole.kernel.shape) == (7, 7, 4, 1)
    assert (local.padding_mode, local.kernel_size, local.activation.__name__) == ("symmetric", (3, 1), "tanh")
    assert local.kernel_regularizer is not None
    assert (dense.output_size, dense.max_params) == ((2, 2), 1000)


@pytest.mark.parametrize(
    "layer",
    [
        pytest.param(SharedConv(delta=(1, 2)), id="SharedConv-delta-tuple"),
        pytest.param(LocallyConnected(2, delta=[1, 0]), id="LocallyConnected-delta-list"),
        pytest.param(MultiChannelConv(2, kernel_size=[3, 1], strides=[1, 2]), id="MultiChannelConv-lists"),
        pytest.param(FullyConnected2D(2, output_size=[3, 4]), id="FullyConnected2D-output_size-list"),
    ],
)
def test_config_is_stable_through_json(layer):
    """A config read back from a .keras file (JSON: tuples come back as lists)
    gives a layer whose config is the one saved, as for Keras's Conv2D, whose
    kernel_size is normalized to a tuple whatever it was given as."""
    config = layer.get_config()
    revived = type(layer).from_config(as_json(config))
    assert revived.get_config() == config


FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.mark.parametrize("rank", ("2d", "1d"))
def test_files_saved_before_the_conv_signature_still_load(rank):
    """`.keras` files saved by the layers before issue #11 (delta/kernel_size
    positional, no data_format, dilation_rate or causal; tests/layers/fixtures)
    load with the same configuration and compute the same outputs."""
    loaded = keras.saving.load_model(os.path.join(FIXTURES, f"saved_before_conv_signature_{rank}.keras"))
    saved = np.load(os.path.join(FIXTURES, "saved_before_conv_signature_outputs.npz"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(saved[f"x_{rank}"])), saved[f"y_{rank}"],
                               rtol=1e-5, atol=1e-5)
    for layer in loaded.layers[1:]:
        assert layer.data_format == "channels_last", layer.name
    conv = loaded.get_layer("conv")
    assert conv.dilation_rate == (1,) * int(rank[0])
    if rank == "2d":
        assert (conv.kernel_size, conv.delta, conv.padding_mode, conv.convolution) == ((3, 3), 1, "reflect", True)
        assert loaded.get_layer("shared").kernel_size == (2, 3)
        assert loaded.get_layer("local").kernel_size == (3, 1)


def test_old_files_stay_channels_last_under_a_channels_first_default():
    """A config without `data_format` was saved channels-last, whatever the
    loading process's `keras.config.image_data_format()` says."""
    before = keras.config.image_data_format()
    try:
        keras.config.set_image_data_format("channels_first")
        loaded = keras.saving.load_model(os.path.join(FIXTURES, "saved_before_conv_signature_1d.keras"))
    finally:
        keras.config.set_image_data_format(before)
    saved = np.load(os.path.join(FIXTURES, "saved_before_conv_signature_outputs.npz"))
    assert {layer.data_format for layer in loaded.layers[1:]} == {"channels_last"}
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(saved["x_1d"])), saved["y_1d"], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------ SavedModel export

_LOAD_AND_RUN = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    model_dir, input_file, output_file = sys.argv[1:4]
    reloaded = tf.saved_model.load(model_dir)
    x = np.load(input_file)
    y = reloaded.serve(tf.constant(x))
    assert "constrained_layers" not in sys.modules, "the SavedModel needed constrained_layers"
    np.save(output_file, np.asarray(y))
    print("ok", y.shape)
    """
)


@pytest.mark.tensorflow_only
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="SavedModel export needs the TensorFlow backend")
@pytest.mark.parametrize("build, input_shape, output_shape", MODELS)
def test_saved_model_runs_without_constrained_layers(build, input_shape, output_shape, tmp_path):
    keras.utils.set_random_seed(0)
    model = randomized(build())
    x = np.random.default_rng(1).standard_normal((4, *input_shape)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))

    model_dir = tmp_path / "saved_model"
    model.export(str(model_dir), verbose=False)
    input_file, output_file = tmp_path / "x.npy", tmp_path / "y.npy"
    np.save(input_file, x)

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_RUN, str(model_dir), str(input_file), str(output_file)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok")
    actual = np.load(output_file)
    assert actual.shape == (4, *output_shape)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5)

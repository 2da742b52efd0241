"""Every public layer through `run_layer_test`, plus weight shapes and fans.

Each case gives a layer, its arguments, the input shape, and the output and
weight shapes the class docstring documents (Weights: section).

Cost on CPU: with TensorFlow every case runs every check; the first case of
each layer (`primary`) runs its training step compiled (tf.function), the
others eagerly, and checks both mixed-precision policies (the others
"mixed_float16"). JAX compiles every new shape and dtype of every op
separately (a new kernel shape alone costs ~1 s of XLA compilation on a
2-core machine), so there only the primary cases run the training step (jitted)
and the mixed-precision check, with "mixed_float16" for the 1D layers and
"mixed_bfloat16" for the 2D ones; every case still checks config,
serialization, shapes, weights, count_params and the functional call.
"""

import math

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
from tests.layers import layer_test_case
from tests.layers.layer_test_case import run_layer_test


def case(layer_cls, kwargs, input_shape, output_shape, weights, losses=0, primary=False):
    """One configuration; `weights` maps weight name -> documented shape."""
    kw = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return pytest.param(
        layer_cls, kwargs, input_shape, output_shape, weights, losses, primary,
        id=f"{layer_cls.__name__}({kw})",
    )


CASES = [
    # FullyConnected1D: kernel (L, C, L', filters); bias (L', filters).
    case(FullyConnected1D, {"filters": 3}, (2, 8, 2), (2, 8, 3),
         {"kernel": (8, 2, 8, 3), "bias": (8, 3)}, primary=True),
    case(FullyConnected1D, {"filters": 2, "output_size": 5, "activation": "relu"}, (2, 8, 2), (2, 5, 2),
         {"kernel": (8, 2, 5, 2), "bias": (5, 2)}),
    case(FullyConnected1D, {"filters": 2, "use_bias": False, "kernel_regularizer": "l2"}, (2, 6, 3), (2, 6, 2),
         {"kernel": (6, 3, 6, 2)}, losses=1),
    # FullyConnected2D: kernel (H, W, C, H', W', filters); bias (H', W', filters).
    case(FullyConnected2D, {"filters": 2}, (2, 4, 5, 3), (2, 4, 5, 2),
         {"kernel": (4, 5, 3, 4, 5, 2), "bias": (4, 5, 2)}, primary=True),
    case(FullyConnected2D,
         {"filters": 3, "output_size": (2, 3), "activation": "tanh",
          "bias_regularizer": "l1", "activity_regularizer": "l2"},
         (2, 4, 5, 2), (2, 2, 3, 3),
         {"kernel": (4, 5, 2, 2, 3, 3), "bias": (2, 3, 3)}, losses=2),
    case(FullyConnected2D, {"filters": 1, "use_bias": False}, (2, 3, 3, 1), (2, 3, 3, 1),
         {"kernel": (3, 3, 1, 3, 3, 1)}),
    # LocallyConnected1D: kernel (L', k·C, filters); bias (L', filters).
    case(LocallyConnected1D, {"filters": 3, "delta": 1}, (2, 7, 2), (2, 7, 3),
         {"kernel": (7, 6, 3), "bias": (7, 3)}, primary=True),
    case(LocallyConnected1D, {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "valid"},
         (2, 7, 2), (2, 3, 2), {"kernel": (3, 4, 2), "bias": (3, 2)}),
    case(LocallyConnected1D,
         {"filters": 2, "delta": 2, "padding_mode": "circular", "convolution": True, "use_bias": False},
         (2, 7, 1), (2, 7, 2), {"kernel": (7, 5, 2)}),
    case(LocallyConnected1D, {"filters": 2, "delta": 1, "strides": 2, "padding_mode": "reflect"},
         (2, 7, 2), (2, 4, 2), {"kernel": (4, 6, 2), "bias": (4, 2)}),
    # LocallyConnected: kernel (H'·W', kh·kw·C, filters); bias (H', W', filters).
    case(LocallyConnected, {"filters": 3, "delta": 1}, (2, 5, 6, 2), (2, 5, 6, 3),
         {"kernel": (30, 18, 3), "bias": (5, 6, 3)}, primary=True),
    case(LocallyConnected, {"filters": 2, "kernel_size": (2, 3), "strides": (2, 1), "padding": "valid"},
         (2, 5, 6, 2), (2, 2, 4, 2), {"kernel": (8, 12, 2), "bias": (2, 4, 2)}),
    case(LocallyConnected,
         {"filters": 2, "delta": (1, 2), "padding_mode": "reflect", "convolution": True, "activation": "relu"},
         (2, 5, 6, 1), (2, 5, 6, 2), {"kernel": (30, 15, 2), "bias": (5, 6, 2)}),
    case(LocallyConnected,
         {"filters": 2, "delta": 1, "strides": 2, "padding_mode": "symmetric", "use_bias": False,
          "kernel_regularizer": "l1"},
         (2, 5, 6, 2), (2, 3, 3, 2), {"kernel": (9, 18, 2)}, losses=1),
    case(LocallyConnected, {"filters": 1, "kernel_size": 2, "padding_mode": "circular"},
         (2, 4, 4, 3), (2, 4, 4, 1), {"kernel": (16, 12, 1), "bias": (4, 4, 1)}),
    # LowRankLocallyConnected1D: kernel (k, C, R, filters); bias (R, filters); mixing (L', R).
    case(LowRankLocallyConnected1D, {"filters": 3, "delta": 1, "num_kernels": 2}, (2, 7, 2), (2, 7, 3),
         {"kernel": (3, 2, 2, 3), "bias": (2, 3), "mixing": (7, 2)}, primary=True),
    case(LowRankLocallyConnected1D,
         {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "causal", "dilation_rate": 1, "num_kernels": 3,
          "padding_mode": "reflect", "convolution": True},
         (2, 7, 2), (2, 4, 2), {"kernel": (4, 2, 3, 2), "bias": (3, 2), "mixing": (4, 3)}),
    case(LowRankLocallyConnected1D,
         {"filters": 2, "kernel_size": 3, "padding": "valid", "use_bias": False, "num_kernels": 1,
          "implementation": "fft", "data_format": "channels_first"},
         (2, 2, 7), (2, 2, 5), {"kernel": (3, 2, 1, 2), "mixing": (5, 1)}),
    # LowRankLocallyConnected: kernel (kh, kw, C, R, filters); bias (R, filters); mixing (H', W', R).
    case(LowRankLocallyConnected, {"filters": 3, "delta": 1, "num_kernels": 4}, (2, 5, 6, 2), (2, 5, 6, 3),
         {"kernel": (3, 3, 2, 4, 3), "bias": (4, 3), "mixing": (5, 6, 4)}, primary=True),
    case(LowRankLocallyConnected,
         {"filters": 2, "kernel_size": (2, 3), "strides": 2, "dilation_rate": (1, 2), "padding_mode": "symmetric",
          "num_kernels": 2, "activation": "relu", "kernel_regularizer": "l2", "mixing_regularizer": "l1"},
         (2, 5, 6, 2), (2, 3, 3, 2), {"kernel": (2, 3, 2, 2, 2), "bias": (2, 2), "mixing": (3, 3, 2)}, losses=2),
    case(LowRankLocallyConnected,
         {"filters": 2, "delta": 1, "padding": "valid", "padding_mode": "circular", "use_bias": False,
          "num_kernels": 3, "mixing_initializer": "ones", "data_format": "channels_first"},
         (2, 1, 5, 6), (2, 2, 3, 4), {"kernel": (3, 3, 1, 3, 2), "mixing": (3, 4, 3)}),
    # Elsayed et al.'s options: the softmax keeps mixing (H', W', R), holding
    # logits; row × column mixing is mixing_rows (H', R), mixing_columns (W', R).
    case(LowRankLocallyConnected,
         {"filters": 2, "delta": 1, "strides": 2, "num_kernels": 3, "mixing_normalization": "softmax",
          "mixing_factorization": "row_column", "mixing_regularizer": "l2"},
         (2, 5, 6, 2), (2, 3, 3, 2),
         {"kernel": (3, 3, 2, 3, 2), "bias": (3, 2), "mixing_rows": (3, 3), "mixing_columns": (3, 3)}, losses=2),
    case(LowRankLocallyConnected1D,
         {"filters": 2, "delta": 1, "num_kernels": 2, "mixing_normalization": "softmax",
          "data_format": "channels_first"},
         (2, 2, 7), (2, 2, 7), {"kernel": (3, 2, 2, 2), "bias": (2, 2), "mixing": (7, 2)}),
    # SharedConv1D: kernel (k, C, 1); bias (C,).
    case(SharedConv1D, {"delta": 1}, (2, 7, 3), (2, 7, 3),
         {"kernel": (3, 3, 1), "bias": (3,)}, primary=True),
    case(SharedConv1D, {"delta": None}, (2, 7, 2), (2, 7, 2),
         {"kernel": (13, 2, 1), "bias": (2,)}),
    case(SharedConv1D, {"kernel_size": 4, "strides": 2, "padding_mode": "reflect", "convolution": True},
         (2, 7, 2), (2, 4, 2), {"kernel": (4, 2, 1), "bias": (2,)}),
    case(SharedConv1D, {"kernel_size": 3, "padding": "valid", "use_bias": False}, (2, 7, 2), (2, 5, 2),
         {"kernel": (3, 2, 1)}),
    # SharedConv: kernel (kh, kw, C, 1); bias (C,).
    case(SharedConv, {"delta": 1}, (2, 5, 6, 3), (2, 5, 6, 3),
         {"kernel": (3, 3, 3, 1), "bias": (3,)}, primary=True),
    case(SharedConv, {"delta": None}, (2, 5, 6, 2), (2, 5, 6, 2),
         {"kernel": (9, 11, 2, 1), "bias": (2,)}),
    case(SharedConv, {"delta": None, "padding_mode": "circular"}, (2, 4, 5, 1), (2, 4, 5, 1),
         {"kernel": (7, 9, 1, 1), "bias": (1,)}),
    case(SharedConv,
         {"kernel_size": (2, 3), "strides": 2, "padding_mode": "symmetric", "convolution": True,
          "activation": "relu"},
         (2, 5, 6, 2), (2, 3, 3, 2), {"kernel": (2, 3, 2, 1), "bias": (2,)}),
    case(SharedConv,
         {"delta": (0, 1), "padding": "valid", "use_bias": False, "activity_regularizer": "l2"},
         (2, 5, 6, 2), (2, 5, 4, 2), {"kernel": (1, 3, 2, 1)}, losses=1),
    # MultiChannelConv1D: kernel (k, C, filters); bias (filters,).
    case(MultiChannelConv1D, {"filters": 4, "delta": 1}, (2, 7, 3), (2, 7, 4),
         {"kernel": (3, 3, 4), "bias": (4,)}, primary=True),
    case(MultiChannelConv1D, {"filters": 2, "delta": 0}, (2, 7, 3), (2, 7, 2),
         {"kernel": (1, 3, 2), "bias": (2,)}),
    case(MultiChannelConv1D,
         {"filters": 2, "kernel_size": 4, "strides": 3, "padding_mode": "circular", "convolution": True},
         (2, 7, 2), (2, 3, 2), {"kernel": (4, 2, 2), "bias": (2,)}),
    case(MultiChannelConv1D, {"filters": 3, "kernel_size": 3, "padding": "valid", "use_bias": False},
         (2, 7, 2), (2, 5, 3), {"kernel": (3, 2, 3)}),
    # MultiChannelConv: kernel (kh, kw, C, filters); bias (filters,).
    case(MultiChannelConv, {"filters": 4, "delta": 1}, (2, 5, 6, 3), (2, 5, 6, 4),
         {"kernel": (3, 3, 3, 4), "bias": (4,)}, primary=True),
    case(MultiChannelConv, {"filters": 2, "kernel_size": (3, 2), "strides": (1, 2), "padding": "valid"},
         (2, 5, 6, 3), (2, 3, 3, 2), {"kernel": (3, 2, 3, 2), "bias": (2,)}),
    case(MultiChannelConv,
         {"filters": 3, "delta": 1, "padding_mode": "reflect", "convolution": True, "activation": "sigmoid",
          "kernel_regularizer": "l2", "bias_regularizer": "l2"},
         (2, 5, 6, 2), (2, 5, 6, 3), {"kernel": (3, 3, 2, 3), "bias": (3,)}, losses=2),
    case(MultiChannelConv, {"filters": 2, "delta": 2, "strides": 2, "padding_mode": "symmetric", "use_bias": False},
         (2, 5, 6, 2), (2, 3, 3, 2), {"kernel": (5, 5, 2, 2)}),
]


@pytest.mark.parametrize(
    "layer_cls, kwargs, input_shape, output_shape, weights, losses, primary", CASES
)
def test_layer(layer_cls, kwargs, input_shape, output_shape, weights, losses, primary):
    tensorflow = keras.backend.backend() == "tensorflow"
    if tensorflow:
        policies = ("mixed_float16", "mixed_bfloat16") if primary else ("mixed_float16",)
    else:
        policies = ("mixed_float16",) if len(input_shape) == 3 else ("mixed_bfloat16",)
    run_layer_test(
        layer_cls,
        kwargs,
        input_shape=input_shape,
        expected_output_shape=output_shape,
        expected_num_trainable_weights=len(weights),
        expected_weight_shapes=weights,
        expected_num_losses=losses,
        run_training_check=primary or tensorflow,
        run_eagerly=not primary,
        run_mixed_precision_check=primary or tensorflow,
        mixed_precision_policies=policies,
    )


def test_every_public_layer_is_covered():
    """A layer added to the package without a case here fails this test."""
    public_classes = {
        getattr(constrained_layers, name).__name__
        for name in constrained_layers.__all__
        if isinstance(getattr(constrained_layers, name), type)
    }
    assert len(public_classes) == 10  # the 2D aliases name the same classes
    covered = {p.values[0].__name__ for p in CASES}
    assert public_classes == covered


class _BiasIgnored(SharedConv1D):
    """A broken layer: creates a bias but never uses it."""

    def call(self, inputs):
        return self._apply_kernel(inputs)


@pytest.mark.filterwarnings("ignore:Gradients do not exist")
@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="checks the test helper itself, whose logic is backend-independent; an eager "
           "training step on JAX compiles every op separately (~6 s)",
)
def test_the_training_check_catches_a_weight_without_gradient():
    """The helper is not vacuous: a bias that no gradient reaches fails it."""
    x = np.random.default_rng(0).standard_normal((2, 7, 3)).astype("float32")
    layer_test_case._check_training_step(SharedConv1D, {"delta": 1}, x, run_eagerly=True)
    with pytest.raises(AssertionError, match=r"bias did not change in a training step"):
        layer_test_case._check_training_step(_BiasIgnored, {"delta": 1}, x, run_eagerly=True)


# ------------------------------------------------------------------ fan-in/out


def empirical_std(layer, input_shape):
    layer.build(input_shape)
    return float(np.std(keras.ops.convert_to_numpy(layer.kernel)))


@pytest.mark.parametrize(
    "layer, input_shape, fan_in, fan_out",
    [
        # The convolution's fans (kh·kw·C in, kh·kw·filters out), so that at
        # initialization LocallyConnected differs from MultiChannelConv only in
        # sharing (issue #11; before, fan_out was `filters`).
        pytest.param(LocallyConnected(filters=8, delta=1), (None, 16, 16, 4), 3 * 3 * 4, 3 * 3 * 8,
                     id="LocallyConnected"),
        pytest.param(LocallyConnected1D(filters=6, kernel_size=4), (None, 64, 5), 4 * 5, 4 * 6,
                     id="LocallyConnected1D"),
        # Each of the R shared kernels has the convolution's fans (not R times either).
        pytest.param(LowRankLocallyConnected(filters=8, delta=1, num_kernels=4), (None, 16, 16, 4),
                     3 * 3 * 4, 3 * 3 * 8, id="LowRankLocallyConnected"),
        pytest.param(LowRankLocallyConnected1D(filters=6, kernel_size=4, num_kernels=3), (None, 64, 5),
                     4 * 5, 4 * 6, id="LowRankLocallyConnected1D"),
        # As Dense on the flattened input: fan_in = H·W·C, fan_out = H'·W'·filters.
        pytest.param(FullyConnected2D(filters=2), (None, 6, 6, 3), 6 * 6 * 3, 6 * 6 * 2,
                     id="FullyConnected2D"),
        pytest.param(FullyConnected2D(filters=3, output_size=(4, 2)), (None, 5, 6, 2), 5 * 6 * 2, 4 * 2 * 3,
                     id="FullyConnected2D-output_size"),
        pytest.param(FullyConnected1D(filters=4), (None, 20, 3), 20 * 3, 20 * 4, id="FullyConnected1D"),
        # One channel's window: fan_in = fan_out = kh·kw.
        pytest.param(SharedConv(delta=3), (None, 10, 10, 64), 7 * 7, 7 * 7, id="SharedConv"),
        pytest.param(SharedConv1D(kernel_size=9), (None, 10, 300), 9, 9, id="SharedConv1D"),
        # Keras's own rule for a convolution kernel.
        pytest.param(MultiChannelConv(filters=32, delta=2), (None, 8, 8, 16), 5 * 5 * 16, 5 * 5 * 32,
                     id="MultiChannelConv"),
    ],
)
def test_glorot_uniform_gets_the_true_fans(layer, input_shape, fan_in, fan_out):
    # glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), std l/sqrt(3).
    expected = math.sqrt(2.0 / (fan_in + fan_out))
    keras.utils.set_random_seed(0)
    std = empirical_std(layer, input_shape)
    assert std == pytest.approx(expected, rel=0.1), (
        f"kernel std {std:.4g}, expected sqrt(2/(fan_in+fan_out)) = {expected:.4g} "
        f"with fan_in={fan_in}, fan_out={fan_out}"
    )
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert float(np.max(np.abs(keras.ops.convert_to_numpy(layer.kernel)))) <= limit * (1 + 1e-6)


@pytest.mark.parametrize(
    "layer, input_shape, fan_in",
    [
        pytest.param(LocallyConnected(filters=8, delta=1, kernel_initializer="he_normal"),
                     (None, 16, 16, 4), 3 * 3 * 4, id="LocallyConnected"),
        pytest.param(SharedConv(delta=3, kernel_initializer="he_normal"),
                     (None, 10, 10, 64), 7 * 7, id="SharedConv"),
    ],
)
def test_he_normal_gets_the_true_fan_in(layer, input_shape, fan_in):
    # He normal: std sqrt(2 / fan_in) (after Keras's truncation correction).
    keras.utils.set_random_seed(0)
    std = empirical_std(layer, input_shape)
    assert std == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.1)


def test_fully_connected_2d_initializes_like_dense():
    """Same std as a Dense layer on the flattened input (same fans)."""
    keras.utils.set_random_seed(0)
    fc_std = empirical_std(FullyConnected2D(filters=2), (None, 6, 6, 3))
    dense = keras.layers.Dense(6 * 6 * 2)
    dense.build((None, 6 * 6 * 3))
    dense_std = float(np.std(keras.ops.convert_to_numpy(dense.kernel)))
    assert fc_std == pytest.approx(dense_std, rel=0.05)


def test_other_initializers_are_left_alone():
    layer = LocallyConnected(filters=2, delta=1, kernel_initializer="ones", bias_initializer="ones")
    layer.build((None, 4, 4, 3))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.kernel), np.ones((16, 27, 2)))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.bias), np.ones((4, 4, 2)))


def test_fan_correction_does_not_leak_into_the_config():
    """The config keeps the user's initializer, not the fan-corrected one."""
    layer = SharedConv(delta=1, kernel_initializer="glorot_uniform")
    layer.build((None, 5, 5, 3))
    config = layer.get_config()["kernel_initializer"]
    assert config["class_name"] == "GlorotUniform"
    assert config["config"]["input_axes"] is None and config["config"]["output_axes"] is None


# ----------------------------------------------------------- behaviour details


def test_shared_conv_whole_image_kernel_pins_the_spatial_size():
    """delta=None: the kernel is 2H-1 × 2W-1, so the layer is tied to H, W."""
    layer = SharedConv(kernel_initializer="zeros")
    layer(np.zeros((1, 5, 6, 2), "float32"))
    assert tuple(layer.kernel.shape) == (9, 11, 2, 1)
    with pytest.raises(ValueError, match=r"expected axis 1 of input shape to have value 5"):
        layer(np.zeros((1, 6, 6, 2), "float32"))


def test_windowed_layers_accept_any_spatial_size():
    """With a window, SharedConv and MultiChannelConv are not tied to H, W."""
    zeros = {"kernel_initializer": "zeros"}  # cheap to build; the values do not matter here
    for layer, out_channels in ((SharedConv(delta=1, **zeros), 2), (MultiChannelConv(3, delta=1, **zeros), 3)):
        assert tuple(layer(np.zeros((1, 5, 6, 2), "float32")).shape) == (1, 5, 6, out_channels)
        assert tuple(layer(np.zeros((1, 9, 4, 2), "float32")).shape) == (1, 9, 4, out_channels)
        inputs = keras.Input((None, None, 2))
        assert tuple(type(layer).from_config(layer.get_config())(inputs).shape) == (None, None, None, out_channels)


def test_weights_are_named_kernel_and_bias():
    layer = MultiChannelConv(filters=2, delta=1, name="conv")
    layer.build((None, 5, 5, 3))
    assert [w.path for w in layer.weights] == ["conv/kernel", "conv/bias"]
    assert layer.kernel is layer.weights[0] and layer.bias is layer.weights[1]
    no_bias = MultiChannelConv(filters=2, delta=1, use_bias=False)
    no_bias.build((None, 5, 5, 3))
    assert no_bias.bias is None and len(no_bias.weights) == 1


@pytest.mark.parametrize("rank", (1, 2))
def test_locally_connected_starts_as_the_convolution_without_sharing(rank):
    """At initialization LocallyConnected's kernel at every position is drawn
    from the distribution of MultiChannelConv's kernel of the same window
    (Glorot with kh·kw·C in and kh·kw·filters out), so that the zoo's
    comparison of the two differs only in sharing (issue #11)."""
    spatial, window = ((12, 12), 3) if rank == 2 else ((64,), 5)
    input_shape = (None, *spatial, 4)
    local = (LocallyConnected if rank == 2 else LocallyConnected1D)(16, window)
    conv = (MultiChannelConv if rank == 2 else MultiChannelConv1D)(16, window)
    keras.utils.set_random_seed(0)
    local.build(input_shape)
    conv.build(input_shape)
    local_kernel = keras.ops.convert_to_numpy(local.kernel)
    conv_kernel = keras.ops.convert_to_numpy(conv.kernel)
    limit = math.sqrt(6 / (window**rank * 4 + window**rank * 16))  # glorot_uniform's bound
    assert np.abs(local_kernel).max() <= limit * (1 + 1e-6) and np.abs(conv_kernel).max() <= limit * (1 + 1e-6)
    # Both uniform on [-limit, limit]: the same standard deviation, limit/sqrt(3).
    assert np.std(local_kernel) == pytest.approx(limit / math.sqrt(3), rel=0.02)
    assert np.std(conv_kernel) == pytest.approx(limit / math.sqrt(3), rel=0.1)


def _float64_available():
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


@pytest.mark.skipif(not _float64_available(), reason="JAX computes in float32 unless jax_enable_x64 is set")
@pytest.mark.parametrize("layer_cls", (SharedConv, MultiChannelConv1D), ids=lambda c: c.__name__)
def test_fft_computes_float64_inputs_in_float64(layer_cls):
    """A float64 layer's FFT path keeps float64 (the check compared `str(dtype)`,
    which is "<dtype: 'float64'>" on TensorFlow: it ran in float32, 1e-7 off)."""
    rank = 2 if layer_cls is SharedConv else 1
    args = () if layer_cls is SharedConv else (3,)
    x = np.random.default_rng(0).uniform(-1, 1, (2, *(9,) * rank, 2))
    fft = layer_cls(*args, 5, implementation="fft", dtype="float64")
    direct = layer_cls(*args, 5, implementation="direct", dtype="float64")
    fft.build(x.shape)
    direct.build(x.shape)
    weights = [np.random.default_rng(1).uniform(-1, 1, w.shape) for w in fft.weights]
    fft.set_weights(weights)
    direct.set_weights(weights)
    y_fft = keras.ops.convert_to_numpy(fft(x))
    assert keras.backend.standardize_dtype(y_fft.dtype) == "float64"
    np.testing.assert_allclose(y_fft, keras.ops.convert_to_numpy(direct(x)), rtol=0, atol=1e-12)

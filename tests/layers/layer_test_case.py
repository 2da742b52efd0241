"""`run_layer_test`: the checks every constrained layer must pass, in one call.

In the spirit of Keras's private `run_layer_test`
(keras/src/testing/test_case.py), which we do not import: for one layer
configuration it checks

1. the config round trip (`from_config(get_config())`) and Keras
   serialization (`serialize_keras_object` / `deserialize_keras_object`);
2. `compute_output_shape`, the eager output shape and the symbolic
   (`keras.Input`, functional) output shape;
3. the number of weights, their names and (optionally) their exact shapes,
   and the number of losses the regularizers add;
4. that `count_params()` of the built layer equals
   `constrained_layers.count_params(layer_cls, input_shape[1:], **init_kwargs)`;
5. that a layer rebuilt from the config of the built layer, given the same
   weights, computes the same output;
6. one training step through `model.fit` (the layer + Flatten + Dense, compiled
   with `metrics=`) after which every weight of the layer has changed: a
   gradient reached each of them;
7. mixed precision: under "mixed_float16" (and any other policies asked for,
   e.g. "mixed_bfloat16") the output has the compute dtype, the weights
   stay float32, and the output equals the float32 output of the same
   layer with the same weights within `mixed_precision_atol` (a few unit
   roundoffs of the compute dtype times the output's scale). Both policies
   run on CPU with TensorFlow and JAX.

Example:

    run_layer_test(
        SharedConv,
        {"delta": 1},
        input_shape=(2, 5, 6, 3),
        expected_output_shape=(2, 5, 6, 3),
        expected_weight_shapes={"kernel": (3, 3, 3, 1), "bias": (3,)},
    )
"""

import keras
import numpy as np
from keras import backend

import constrained_layers

#: Unit roundoff u = 2^-(p+1) of the compute dtypes of the mixed policies, p
#: the stored mantissa bits: float16 has 10 (u ≈ 4.9e-4), bfloat16 7
#: (u ≈ 3.9e-3). Rounding a number to the dtype changes it by at most u·|v|.
UNIT_ROUNDOFF = {"float16": 2.0**-11, "bfloat16": 2.0**-8}

#: The tolerance of a mixed-precision output, in units of u · max|y|, y the
#: float32 output of the same layer with the same weights. Where the error
#: comes from: the input, the kernel and the bias are rounded to the compute
#: dtype (≤ u relative error each), the products are summed (on some CPU
#: kernels in the compute dtype: one rounding per partial sum, of random
#: sign, so about √n·u for the n ≤ 99 terms of the windows tested here, in
#: practice far less), then the activation and the output are rounded
#: (≤ u·|y| each). Measured over every configuration of test_layers.py,
#: both policies, TensorFlow and JAX (CPU): at most 2.4·u·max|y| with the
#: weights drawn here, 4.4 with kernels uniform in [-1, 1]; 16 leaves room
#: for CPUs whose kernels sum in the compute dtype where ours did not.
#: A real mistake (a weight left in float32 and mixed into a float16 sum,
#: a bias lost, a kernel misaligned) moves the output by O(max|y|), which
#: is 2048 u for float16 and 256 u for bfloat16: far outside.
MIXED_PRECISION_ROUNDOFFS = 16


def mixed_precision_atol(policy, float32_output):
    """The absolute tolerance of a `policy` output against the float32 one.

    MIXED_PRECISION_ROUNDOFFS · u · max|float32_output|, u the unit roundoff
    of the policy's compute dtype (see `UNIT_ROUNDOFF`).

    Example:

    >>> mixed_precision_atol("mixed_bfloat16", np.array([-2.0, 1.0]))
    0.125
    """
    compute_dtype = keras.DTypePolicy(policy).compute_dtype
    scale = float(np.max(np.abs(float32_output)))
    return MIXED_PRECISION_ROUNDOFFS * UNIT_ROUNDOFF[compute_dtype] * scale


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_shape,
    expected_output_shape,
    expected_num_trainable_weights=2,
    expected_num_non_trainable_weights=0,
    expected_weight_shapes=None,
    expected_num_losses=0,
    run_training_check=True,
    run_eagerly=False,
    run_mixed_precision_check=True,
    mixed_precision_policies=("mixed_float16",),
    seed=1337,
):
    """Runs the standard battery of layer checks on one configuration.

    Args:
        layer_cls: the layer class, e.g. `SharedConv`.
        init_kwargs: dict of constructor arguments.
        input_shape: full input shape including the batch axis, all known,
            e.g. `(2, 5, 6, 3)`.
        expected_output_shape: full output shape including the batch axis.
        expected_num_trainable_weights: 2 (kernel, bias) or 1 (no bias).
        expected_num_non_trainable_weights: expected non-trainable weights.
        expected_weight_shapes: optional dict `{"kernel": shape, ...}`,
            checked exactly against the built layer's weights.
        expected_num_losses: losses the regularizers add after one call.
        run_training_check: whether to run one `model.fit` step.
        run_eagerly: passed to `model.compile` for the training step (the
            compiled path is the default; eager is much cheaper on JAX).
        run_mixed_precision_check: whether to check mixed precision.
        mixed_precision_policies: the policies to check, e.g.
            `("mixed_float16", "mixed_bfloat16")`.
        seed: seed of the data and the weights.
    """
    keras.utils.set_random_seed(seed)
    input_shape = tuple(input_shape)
    expected_output_shape = tuple(expected_output_shape)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")

    # 1. Config round trip and serialization, before build.
    layer = layer_cls(**init_kwargs)
    _check_config_round_trip(layer_cls, layer)

    # 2a. compute_output_shape, before build.
    assert tuple(layer.compute_output_shape(input_shape)) == expected_output_shape, (
        f"compute_output_shape{input_shape} = {layer.compute_output_shape(input_shape)}, "
        f"expected {expected_output_shape}"
    )
    batchless = (None, *input_shape[1:])
    assert tuple(layer.compute_output_shape(batchless)) == (None, *expected_output_shape[1:])

    # 2b. Eager call.
    y = layer(x)
    assert layer.built
    assert tuple(y.shape) == expected_output_shape, (
        f"eager output shape {tuple(y.shape)}, expected {expected_output_shape}"
    )
    y = keras.ops.convert_to_numpy(y)
    assert np.all(np.isfinite(y)), "eager output is not finite"

    # 3. Weights and losses.
    assert len(layer.trainable_weights) == expected_num_trainable_weights, (
        f"{len(layer.trainable_weights)} trainable weights, expected "
        f"{expected_num_trainable_weights}"
    )
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights
    assert len(layer.weights) == expected_num_trainable_weights + expected_num_non_trainable_weights
    names = [_short_name(w) for w in layer.weights]
    assert names[0] == "kernel", names
    assert ("bias" in names) == layer.use_bias, names
    if expected_weight_shapes is not None:
        actual_shapes = {_short_name(w): tuple(w.shape) for w in layer.weights}
        expected_shapes = {k: tuple(v) for k, v in expected_weight_shapes.items()}
        assert actual_shapes == expected_shapes, f"weights {actual_shapes}, expected {expected_shapes}"
    assert len(layer.losses) == expected_num_losses, (
        f"{len(layer.losses)} losses after one call, expected {expected_num_losses}"
    )

    # 4. count_params without building agrees with Keras's count.
    counted = constrained_layers.count_params(layer_cls, input_shape[1:], **init_kwargs)
    assert layer.count_params() == counted, (
        f"layer.count_params()={layer.count_params()} but "
        f"constrained_layers.count_params(...)={counted}"
    )
    assert counted == sum(int(np.prod(w.shape)) for w in layer.weights)

    # 5. The built layer's config rebuilds an identical layer.
    _check_config_round_trip(layer_cls, layer)
    clone = layer_cls.from_config(layer.get_config())
    clone.build(input_shape)
    assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape) for w in layer.weights]
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(x)), y, rtol=1e-6, atol=1e-6,
        err_msg="a layer rebuilt from get_config() with the same weights computes a different output",
    )

    # 2c. Symbolic call, in a functional model.
    symbolic_layer = layer_cls(**init_kwargs)
    inputs = keras.Input(shape=input_shape[1:])
    outputs = symbolic_layer(inputs)
    assert tuple(outputs.shape) == (None, *expected_output_shape[1:]), (
        f"symbolic output shape {tuple(outputs.shape)}, expected "
        f"{(None, *expected_output_shape[1:])}"
    )
    model = keras.Model(inputs, outputs)
    assert tuple(model(x).shape) == expected_output_shape

    # 6. One training step reaches every weight.
    if run_training_check:
        _check_training_step(layer_cls, init_kwargs, x, run_eagerly)

    # 7. Mixed precision.
    if run_mixed_precision_check:
        for policy in mixed_precision_policies:
            _check_mixed_precision(layer_cls, init_kwargs, x, expected_output_shape, policy)


def _short_name(weight):
    """'kernel' for a variable whose path is '.../kernel'."""
    return weight.path.split("/")[-1]


def _check_config_round_trip(layer_cls, layer):
    config = layer.get_config()
    revived = layer_cls.from_config(config)
    assert type(revived) is layer_cls
    assert revived.get_config() == config, "from_config(get_config()) changed the config"

    serialized = keras.saving.serialize_keras_object(layer)
    assert serialized["registered_name"] == f"constrained_layers>{layer_cls.__name__}"
    deserialized = keras.saving.deserialize_keras_object(serialized)
    assert type(deserialized) is layer_cls
    assert deserialized.get_config() == config, "deserialize(serialize(layer)) changed the config"


def _check_training_step(layer_cls, init_kwargs, x, run_eagerly):
    layer = layer_cls(**init_kwargs)
    model = keras.Sequential(
        [
            keras.Input(shape=x.shape[1:]),
            layer,
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-2),
        loss="mse",
        metrics=["mae"],
        run_eagerly=run_eagerly,
    )
    # Biases start at zero: give every weight a random start so that a weight
    # that did not move cannot pass for one that did.
    rng = np.random.default_rng(0)
    for w in layer.weights:
        w.assign(0.1 * rng.standard_normal(w.shape).astype("float32"))
    before = [keras.ops.convert_to_numpy(w) for w in layer.weights]
    targets = rng.standard_normal((x.shape[0], 1)).astype("float32")
    history = model.fit(x, targets, batch_size=x.shape[0], epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}, history.history
    assert np.isfinite(history.history["loss"][0])
    for w, old in zip(layer.weights, before):
        new = keras.ops.convert_to_numpy(w)
        assert np.any(new != old), f"weight {w.path} did not change in a training step: no gradient reached it"


def _check_mixed_precision(layer_cls, init_kwargs, x, expected_output_shape, policy):
    layer = layer_cls(**init_kwargs, dtype=policy)
    layer.build(x.shape)
    # Random weights, the bias too (it starts at zero), shared with a float32
    # layer of the same configuration: the reference output.
    rng = np.random.default_rng(2)
    weights = [0.1 * rng.standard_normal(w.shape).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    y = layer(x)
    compute_dtype = keras.DTypePolicy(policy).compute_dtype
    assert backend.standardize_dtype(y.dtype) == compute_dtype, (
        f"{policy}: output dtype {y.dtype}, expected {compute_dtype}"
    )
    assert tuple(y.shape) == expected_output_shape
    for w in layer.weights:
        assert backend.standardize_dtype(w.dtype) == "float32", f"{policy}: {w.path} is {w.dtype}"
    y = keras.ops.convert_to_numpy(keras.ops.cast(y, "float32"))
    assert np.all(np.isfinite(y)), f"{policy}: output is not finite"

    float32_layer = layer_cls(**init_kwargs)
    float32_layer.build(x.shape)
    float32_layer.set_weights(weights)
    expected = keras.ops.convert_to_numpy(float32_layer(x))
    atol = mixed_precision_atol(policy, expected)
    np.testing.assert_allclose(
        y, expected, rtol=0, atol=atol,
        err_msg=f"{policy}: the output differs from float32's (same weights) by more than {atol:.3g}",
    )

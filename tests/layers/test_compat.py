"""`constrained_layers.compat` = tf-keras's LocallyConnected1D/2D, in Keras 3.

Against tf-keras itself (a separate package on TensorFlow, so these run
under either Keras 3 backend), compared as numpy arrays, atol = rtol = 1e-5:

- every implementation (1, 2, 3) × rank (1D, 2D) × padding ("valid"; "same"
  where tf-keras allows it: implementations 2 and 3) × data format, each
  with an odd kernel, stride 1 and a bias, and with an even or asymmetric
  kernel, strides > 1 and no bias: same weight shapes, weights moved both
  ways, same outputs; `to_native` of each gives the same outputs too;
- the gradient with respect to the kernel, in tf-keras's layout;
- tf-keras models (Sequential and functional) saved to .h5 by tf-keras
  load with `keras.models.load_model(h5, custom_objects=...)`;
- the config has tf-keras's keys, and everything the layers accept survives
  it; arguments are validated the Keras way, and a keyword tf-keras refuses
  (the native layers' `dilation_rate`, `padding_mode`, ...) is refused.
"""

import inspect
import itertools

import keras
import numpy as np
import pytest

import constrained_layers as cl
from constrained_layers import compat
from tests.layers import helpers

tf_keras = pytest.importorskip("tf_keras")

CHANNELS = 2
FILTERS = 2
SPATIAL = {1: (7,), 2: (7, 6)}
#: (implementation, padding) pairs tf-keras accepts.
IMPL_PADDINGS = [(1, "valid"), (2, "valid"), (2, "same"), (3, "valid"), (3, "same")]
DATA_FORMATS = ("channels_last", "channels_first")
#: Per rank: (kernel_size, strides, use_bias): odd kernel, stride 1, bias;
#: even or asymmetric kernel, strides > 1 (tf-keras's "same" then places the
#: zeros unlike Keras's), no bias.
VARIANTS = {1: [(3, 1, True), (2, 2, False)], 2: [(3, 1, True), ((2, 3), (2, 1), False)]}


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def _input_shape(rank, data_format, batch=2):
    spatial = SPATIAL[rank]
    return (batch, *spatial, CHANNELS) if data_format == "channels_last" else (batch, CHANNELS, *spatial)


def _random_weights(weights, rng):
    """Uniform weights of unit-scale outputs (the bias never zero)."""
    return [rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32) for w in weights]


def _pair(rank, **kwargs):
    """A tf-keras layer and a compat layer with the same arguments, both built."""
    shape = _input_shape(rank, kwargs["data_format"])
    tf_layer = getattr(tf_keras.layers, f"LocallyConnected{rank}D")(kernel_initializer="zeros", **kwargs)
    tf_layer.build(shape)
    layer = getattr(compat, f"LocallyConnected{rank}D")(kernel_initializer="zeros", **kwargs)
    layer.build(shape)
    return tf_layer, layer, shape


CASES = [
    pytest.param(rank, impl, padding, data_format, id=f"{rank}d-impl{impl}-{padding}-{data_format}")
    for rank, (impl, padding), data_format in itertools.product((1, 2), IMPL_PADDINGS, DATA_FORMATS)
]


@pytest.mark.parametrize("rank, implementation, padding, data_format", CASES)
def test_same_outputs_as_tf_keras_and_weights_both_ways(rank, implementation, padding, data_format):
    rng = np.random.default_rng(helpers.seed_of(rank, implementation, padding, data_format))
    for kernel_size, strides, use_bias in VARIANTS[rank]:
        kwargs = dict(
            filters=FILTERS,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            use_bias=use_bias,
            implementation=implementation,
        )
        tf_layer, layer, shape = _pair(rank, **kwargs)
        x = helpers.random_input(rng, shape)
        assert [w.shape for w in layer.get_weights()] == [w.shape for w in tf_layer.get_weights()], kwargs

        # tf-keras -> compat
        tf_layer.set_weights(_random_weights(tf_layer.get_weights(), rng))
        layer.set_weights(tf_layer.get_weights())
        expected = tf_layer(x).numpy()
        _close(helpers.run(layer, x), expected)
        # ... -> native (a Sequential with ZeroPadding where tf-keras's "same" is not Keras's)
        native = compat.to_native(layer)
        _close(helpers.run(native, x), expected)

        # compat -> tf-keras
        layer.set_weights(_random_weights(layer.get_weights(), rng))
        tf_layer.set_weights(layer.get_weights())
        _close(helpers.run(layer, x), tf_layer(x).numpy())


@pytest.mark.parametrize("rank", [1, 2])
def test_to_native_is_the_native_layer_where_paddings_agree(rank):
    for padding, implementation in (("valid", 1), ("same", 2)):
        _, layer, _ = _pair(rank, filters=FILTERS, kernel_size=3, padding=padding, data_format="channels_last",
                            implementation=implementation)
        native = compat.to_native(layer)
        assert type(native) is (cl.LocallyConnected if rank == 2 else cl.LocallyConnected1D)
        assert native.name == layer.name and native.padding == padding
        assert tuple(native.kernel.shape) == (np.prod(SPATIAL[rank] if padding == "same" else
                                                      [n - 2 for n in SPATIAL[rank]]), 3**rank * CHANNELS, FILTERS)
    # tf-keras's "same" with an even kernel reads k // 2 = 1 zero before;
    # Keras's "same" reads none (its extra zero goes after): padding + "valid".
    _, layer, _ = _pair(rank, filters=FILTERS, kernel_size=2, padding="same",
                        data_format="channels_last", implementation=3)
    wrapped = compat.to_native(layer)
    assert isinstance(wrapped, keras.Sequential) and wrapped.name == layer.name
    assert [type(sub).__name__ for sub in wrapped.layers] == [f"ZeroPadding{rank}D", type(native).__name__]


@pytest.mark.tensorflow_only
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="compares tf.GradientTape gradients")
@pytest.mark.parametrize("implementation, padding", [(1, "valid"), (2, "same"), (3, "same")])
def test_kernel_gradient_as_tf_keras(implementation, padding):
    import tensorflow as tf

    rng = np.random.default_rng(implementation)
    tf_layer, layer, shape = _pair(2, filters=FILTERS, kernel_size=(3, 2), strides=(2, 1), padding=padding,
                                   data_format="channels_first", implementation=implementation)
    tf_layer.set_weights(_random_weights(tf_layer.get_weights(), rng))
    layer.set_weights(tf_layer.get_weights())
    x = tf.constant(helpers.random_input(rng, shape))
    grads = []
    for lc, kernel in ((tf_layer, tf_layer.kernel), (layer, layer.kernel.value)):
        with tf.GradientTape() as tape:
            y = lc(x)
            loss = tf.reduce_sum(y * y)
        grads.append(tf.convert_to_tensor(tape.gradient(loss, kernel)).numpy())
    if implementation == 2:  # tf-keras's gradient is masked: only connected entries
        assert np.count_nonzero(grads[0]) == np.count_nonzero(grads[1])
    _close(grads[1], grads[0])


# ------------------------------------------------------------ .h5 from tf-keras
def _sequential_2d():
    layers = tf_keras.layers
    return tf_keras.Sequential(
        [
            layers.InputLayer((7, 6, CHANNELS)),
            layers.LocallyConnected2D(2, 3, kernel_initializer="zeros"),  # -> (5, 4)
            layers.LocallyConnected2D(2, 2, strides=2, padding="same", implementation=2, use_bias=False,
                                      kernel_initializer="zeros"),  # -> (3, 2)
            layers.LocallyConnected2D(2, (3, 2), padding="same", implementation=3, activation="relu",
                                      kernel_initializer="zeros"),
            layers.Flatten(),
            layers.Dense(3, kernel_initializer="zeros"),
        ],
        name="sequential_2d",
    )


def _functional_1d():
    layers = tf_keras.layers
    inputs = tf_keras.Input((9, CHANNELS))
    a = layers.LocallyConnected1D(3, 3, strides=2, kernel_initializer="zeros")(inputs)  # -> 4
    a = layers.LocallyConnected1D(2, 2, padding="same", implementation=2, activation="tanh",
                                  kernel_initializer="zeros")(a)
    b = layers.LocallyConnected1D(2, 3, strides=2, padding="same", implementation=3, use_bias=False,
                                  kernel_initializer="zeros")(inputs)  # -> 5
    merged = layers.Concatenate()([layers.Flatten()(a), layers.Flatten()(b)])
    return tf_keras.Model(inputs, [merged, a], name="functional_1d")


def _channels_first():
    layers = tf_keras.layers
    image = tf_keras.Input((CHANNELS, 7, 6), name="image")
    sequence = tf_keras.Input((CHANNELS, 9), name="sequence")
    cf = dict(data_format="channels_first", kernel_initializer="zeros")
    x = layers.LocallyConnected2D(2, 3, **cf)(image)  # -> (2, 5, 4)
    x = layers.LocallyConnected2D(2, 2, strides=2, padding="same", implementation=2, **cf)(x)  # -> (2, 3, 2)
    x = layers.LocallyConnected2D(2, 3, padding="same", implementation=3, use_bias=False, **cf)(x)
    s = layers.LocallyConnected1D(2, 2, strides=2, **cf)(sequence)  # -> (2, 4)
    s = layers.LocallyConnected1D(2, 3, padding="same", implementation=2, **cf)(s)
    s = layers.LocallyConnected1D(2, 2, strides=2, padding="same", implementation=3, **cf)(s)  # -> (2, 2)
    merged = layers.Concatenate()([layers.Flatten()(x), layers.Flatten()(s)])
    return tf_keras.Model([image, sequence], merged, name="channels_first")


MODELS = {"sequential_2d": _sequential_2d, "functional_1d": _functional_1d, "channels_first": _channels_first}


def model_inputs(model, rng, batch=3):
    return [helpers.random_input(rng, (batch, *t.shape[1:])) for t in model.inputs]


def call(model, inputs):
    return as_list(model(inputs if len(inputs) > 1 else inputs[0]))


def as_list(outputs):
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def save_tf_keras_models(directory):
    """{name: (h5 path, inputs, tf-keras outputs)} for `MODELS`, saved by tf-keras."""
    saved = {}
    for name, build in MODELS.items():
        rng = np.random.default_rng(helpers.seed_of(name))
        model = build()
        model.set_weights(_random_weights(model.get_weights(), rng))
        path = directory / f"{name}.h5"
        model.save(str(path))
        inputs = model_inputs(model, rng)
        saved[name] = (path, inputs, call(model, inputs))
    return saved


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_tf_keras_models(tmp_path_factory.mktemp("tf_keras_h5"))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_h5_loads_with_custom_objects(saved, name):
    path, inputs, expected = saved[name]
    model = keras.models.load_model(str(path), custom_objects=compat.custom_objects())
    assert any(isinstance(layer, compat.BaseLocallyConnectedCompat) for layer in model.layers)
    actual = call(model, inputs)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        _close(a, e)


# --------------------------------------------------------------------- config
@pytest.mark.parametrize("rank", [1, 2])
def test_config_has_tf_keras_keys_and_round_trips(rank):
    kwargs = dict(filters=3, kernel_size=2, strides=2, padding="same", data_format="channels_first",
                  activation="relu", use_bias=False, implementation=3, name="lc")
    tf_config = getattr(tf_keras.layers, f"LocallyConnected{rank}D")(**kwargs).get_config()
    layer = getattr(compat, f"LocallyConnected{rank}D")(**kwargs)
    config = layer.get_config()
    assert sorted(config) == sorted(tf_config)
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "use_bias", "implementation"):
        assert config[key] == tf_config[key], key
    assert type(layer).from_config(config).get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


#: A value other than the default for every argument the layers take (the
#: Keras base `Layer`'s `input_shape`/`input_dim` apart: see below).
EVERY_ARGUMENT = dict(
    filters=3, kernel_size=2, strides=2, padding="same", data_format="channels_first", activation="relu",
    use_bias=False, kernel_initializer="he_normal", bias_initializer="ones", kernel_regularizer="l2",
    bias_regularizer="l1", activity_regularizer="l1", kernel_constraint="non_neg", bias_constraint="unit_norm",
    implementation=2, name="lc", dtype="float64", trainable=False, autocast=False,
)


@pytest.mark.parametrize("rank", [1, 2])
def test_everything_accepted_survives_the_config(rank):
    cls = getattr(compat, f"LocallyConnected{rank}D")
    explicit = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    tf_explicit = set(inspect.signature(getattr(tf_keras.layers, f"LocallyConnected{rank}D").__init__).parameters)
    assert explicit == tf_explicit - {"self", "kwargs"}
    assert set(EVERY_ARGUMENT) | {"input_shape", "input_dim"} == explicit | set(compat.TF_KERAS_KEYWORDS)

    layer = cls(**EVERY_ARGUMENT)
    config = layer.get_config()
    restored = cls.from_config(config)
    assert restored.get_config() == config
    for key, value in EVERY_ARGUMENT.items():
        if key in ("kernel_size", "strides"):
            value = (value,) * rank
        elif key == "activation":
            value = keras.activations.get(value)
        elif key.endswith(("initializer", "regularizer", "constraint")):
            value = type(getattr(keras, key.rpartition("_")[2] + "s").get(value))
        elif key == "dtype":
            value, key = "float64", "dtype_policy"
        actual = getattr(restored, key)
        if key.endswith(("initializer", "regularizer", "constraint")):
            actual = type(actual)
        elif key == "dtype_policy":
            actual = actual.name
        assert actual == value, key
    shape = (None, CHANNELS, *SPATIAL[rank])
    layer.build(shape)
    restored.build(shape)
    assert [w.shape for w in restored.weights] == [w.shape for w in layer.weights]

    # `input_shape` is kept by a Sequential model (as an Input), as for Keras's own layers (`input_dim=n`
    # is Keras's `input_shape=(n,)`, a rank these layers refuse).
    model = keras.Sequential([cls(2, 1, data_format="channels_last", input_shape=(*SPATIAL[rank], 1))])
    assert keras.Sequential.from_config(model.get_config()).input_shape == (None, *SPATIAL[rank], 1)


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("kwargs", [dict(dilation_rate=2), dict(padding_mode="circular"), dict(delta=1),
                                    dict(convolution=True), dict(padding_mode="zeros"), dict(color="red")],
                         ids=lambda kwargs: next(iter(kwargs)))
def test_a_keyword_tf_keras_refuses_is_refused(rank, kwargs):
    (key, value), = kwargs.items()
    with pytest.raises(TypeError) as theirs:
        getattr(tf_keras.layers, f"LocallyConnected{rank}D")(2, 3, **kwargs)
    assert theirs.value.args == ("Keyword argument not understood:", key)
    message = (f"Keyword argument not understood: `{key}`. Received: {key}={value!r}. "
               f"`compat.LocallyConnected{rank}D` takes tf-keras's arguments only.")
    if key != "color":
        message += f" The native `constrained_layers.{'LocallyConnected' if rank == 2 else 'LocallyConnected1D'}` takes `{key}`."
    with pytest.raises(TypeError) as ours:
        getattr(compat, f"LocallyConnected{rank}D")(2, 3, **kwargs)
    assert str(ours.value) == message


def test_a_native_keyword_is_not_lost_on_save():
    # The compat config is tf-keras's, which has no `dilation_rate`: refused, where the native layer keeps it.
    with pytest.raises(TypeError, match="`dilation_rate`. Received: dilation_rate=2"):
        compat.LocallyConnected2D(2, 3, dilation_rate=2)
    native = cl.LocallyConnected(2, 3, dilation_rate=2, padding="valid")
    native.build((None, 8, 8, 1))
    restored = cl.LocallyConnected.from_config(native.get_config())
    restored.build((None, 8, 8, 1))
    assert tuple(native.kernel.shape) == tuple(restored.kernel.shape) == (16, 9, 2)


def test_defaults_are_tf_keras_defaults():
    layer = compat.LocallyConnected2D(4, 3)
    assert (layer.strides, layer.padding, layer.implementation, layer.use_bias) == ((1, 1), "valid", 1, True)
    assert layer.data_format == keras.config.image_data_format()
    assert compat.custom_objects() == {"LocallyConnected1D": compat.LocallyConnected1D,
                                       "LocallyConnected2D": compat.LocallyConnected2D}


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(implementation=4), "Invalid value for argument `implementation`. Expected one of [1, 2, 3]. "
                                 "Received: implementation=4"),
        (dict(implementation=True), "Received: implementation=True"),
        (dict(padding="same"), "`LocallyConnected2D` with implementation=1 supports only padding='valid'"),
        (dict(padding="causal", implementation=2), "Invalid value for argument `padding`. Expected one of "
                                                   "['same', 'valid']. Received: padding='causal'"),
        (dict(data_format="NHWC"), "Invalid value for argument `data_format`. Expected one of "
                                   "['channels_last', 'channels_first']. Received: data_format='NHWC'"),
        (dict(filters=0), "Invalid value for argument `filters`. Expected a strictly positive value. "
                          "Received: filters=0"),
        (dict(kernel_size=(3, 0)), "Invalid value for argument `kernel_size`. Expected a positive integer "
                                   "or a tuple of 2 positive integers. Received: kernel_size=(3, 0)"),
        (dict(strides=0), "Received: strides=0"),
    ],
    ids=["implementation", "implementation-bool", "impl1-same", "causal", "data_format", "filters",
         "kernel_size", "strides"],
)
def test_invalid_arguments(kwargs, message):
    arguments = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError) as info:
        compat.LocallyConnected2D(**arguments)
    assert message in str(info.value)


def test_build_errors():
    with pytest.raises(ValueError, match=r"weights whose shape depends on the input's spatial size .* "
                                         r"Received: input_shape=\(None, None, 6, 2\)"):
        compat.LocallyConnected2D(2, 3).build((None, None, 6, 2))
    with pytest.raises(ValueError, match="would produce an empty output"):
        compat.LocallyConnected1D(2, 5).build((None, 4, 2))


def test_to_native_errors():
    with pytest.raises(ValueError, match="needs a built layer"):
        compat.to_native(compat.LocallyConnected1D(2, 3))
    with pytest.raises(TypeError, match="Received: layer of type Dense"):
        compat.to_native(keras.layers.Dense(2))

"""Every registered model, tested without anyone remembering to (as timm does).

Parametrized over `models.list_models()`: builds for the input shapes of the
datasets it is meant for, the forward pass has the right shape and no NaN,
one training step gives every weight a gradient, and its parameter count is
the sum of `constrained_layers.count_params` of its constrained layers and
Keras's count of its other layers.
"""

import numpy as np
import pytest

import keras

import constrained_layers
from constrained_zoo import models
from constrained_layers.base import ConstrainedLayer
from tests.models.pin_architectures import DATASET_SHAPES


def _cases():
    for name in models.list_models():
        for dataset in models.model_entry(name).datasets:
            yield pytest.param(name, DATASET_SHAPES[dataset], id=f"{name}-{dataset}")


def _first_shape(name):
    return DATASET_SHAPES[models.model_entry(name).datasets[0]]


@pytest.mark.parametrize("name, input_shape", list(_cases()))
def test_forward_shape_and_finite(name, input_shape):
    model = models.create_model(name, input_shape=input_shape, num_classes=7)
    assert model.name == name
    x = np.random.default_rng(0).random((3, *input_shape), dtype=np.float32)
    y = keras.ops.convert_to_numpy(model(x))
    assert y.shape == (3, 7)
    assert np.all(np.isfinite(y))


@pytest.mark.parametrize("name", models.list_models())
def test_every_weight_gets_a_gradient(name):
    input_shape = _first_shape(name)
    model = models.create_model(name, input_shape=input_shape, num_classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(1)
    x = rng.random((16, *input_shape), dtype=np.float32)
    y = rng.integers(0, 10, 16)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    unchanged = [w.path for w, b, a in zip(model.trainable_weights, before, after) if np.array_equal(b, a)]
    assert not unchanged, f"no gradient reached {unchanged}"


@pytest.mark.parametrize("name", models.list_models())
def test_parameter_count_adds_up(name):
    input_shape = _first_shape(name)
    model = models.create_model(name, input_shape=input_shape)
    total = 0
    for layer in model.layers:
        if isinstance(layer, ConstrainedLayer):
            total += constrained_layers.count_params(type(layer), layer.input.shape[1:], **layer.get_config())
        else:
            total += layer.count_params()
    assert total == model.count_params()


def test_registry_lists_sorted_and_filters():
    names = models.list_models()
    assert names == sorted(names) and len(names) == len(set(names))
    assert set(models.list_models("*1d*")) == set(models.list_models(rank=1))
    assert all(models.model_entry(n).family == "multi_channel_conv" for n in models.list_models(family="multi_channel_conv"))
    assert "lenet5" in models.list_models(["lenet*", "nothing*"])


def test_unknown_model_names_near_matches():
    with pytest.raises(ValueError, match=r"Unknown model .*'lenet'.* Did you mean 'lenet5'"):
        models.create_model("lenet")


def test_wrong_input_rank_is_a_clear_error():
    with pytest.raises(ValueError, match=r"takes inputs \(height, width, channels\).*Received: input_shape=\(40, 1\)"):
        models.create_model("lenet5", input_shape=(40, 1))


def test_none_overrides_keep_defaults():
    model = models.create_model("cnn_small", input_shape=None, num_classes=None)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)


def test_lenet5_matches_d2l():
    # D2L §7.6's LeNet-5 on 28×28 inputs: 61,706 parameters, computed here
    # from its layers' shapes: conv 5·5·1·6+6, conv 5·5·6·16+16, dense
    # 400·120+120, 120·84+84, 84·10+10.
    expected = (25 * 6 + 6) + (25 * 6 * 16 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert models.create_model("lenet5").count_params() == expected


@pytest.mark.parametrize("name", [n for n in models.list_models() if models.model_entry(n).same_as])
def test_same_as_computes_the_same_function(name):
    """A declared `same_as` pair: same family of weights, and the same outputs once weights move across."""
    entry = models.model_entry(name)
    other = models.model_entry(entry.same_as)
    assert (other.rank, other.datasets, other.same_as) == (entry.rank, entry.datasets, None)
    input_shape = _first_shape(name)
    model = models.create_model(name, input_shape=input_shape)
    twin = models.create_model(entry.same_as, input_shape=input_shape)
    assert model.count_params() == twin.count_params()
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(w.shape).astype("float32") for w in model.weights]
    model.set_weights(weights)
    twin.set_weights([w.reshape(t.shape) for w, t in zip(weights, twin.weights)])
    x = rng.random((4, *input_shape), dtype=np.float32)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(twin(x)),
                               rtol=1e-5, atol=1e-4)

"""The zoo's knobs: every model's default is pinned; overrides reach the layers; count_params predicts them.

The fixture `fixtures/architectures.json` was written before the builders took
overrides (issue #12), by the command in `tests/models/pin_architectures.py`.
"""

import json
import math
import os

import pytest

import keras

from constrained_zoo import models
from tests.models.pin_architectures import DATASET_SHAPES, architecture

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "architectures.json")
with open(FIXTURE, encoding="utf-8") as f:
    PINNED = json.load(f)


def test_every_registered_model_is_pinned():
    assert sorted(PINNED) == models.list_models(), (
        "a model was added or removed: pin its default architecture with the command in "
        "tests/models/pin_architectures.py"
    )


@pytest.mark.parametrize("name", sorted(PINNED))
def test_default_architecture_is_unchanged(name):
    for dataset, pinned in PINNED[name].items():
        built = architecture(models.create_model(name, input_shape=DATASET_SHAPES[dataset]))
        assert built == pinned, f"{name} on {dataset} differs from its published architecture"


# One non-default value per knob. "symmetric" padding works on every map the
# zoo makes (reflect needs maps wider than the window).
NON_DEFAULT = {
    "delta": 3, "padding_mode": "symmetric", "convolution": True, "implementation": "direct",
    "width": 1.5, "dropout": 0.25, "num_kernels": 3, "mixing_normalization": "softmax",
    "mixing_factorization": "row_column",
}
LAYER_KNOBS = ("padding_mode", "convolution", "implementation", "num_kernels", "mixing_normalization",
               "mixing_factorization")


def _trainable(model):
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


@pytest.mark.parametrize("name", models.list_models())
def test_overrides_reach_the_layers_and_count_params_predicts_them(name):
    entry = models.model_entry(name)
    overrides = {k: v for k, v in NON_DEFAULT.items() if k in entry.options}
    assert "width" in overrides and "dropout" in overrides  # every family has both
    shape = DATASET_SHAPES[entry.datasets[0]]
    model = models.create_model(name, input_shape=shape, **overrides)
    default = models.create_model(name, input_shape=shape)
    assert model.name == name and model.output_shape == (None, 10)
    assert models.count_params(name, input_shape=shape, **overrides) == model.count_params()
    assert models.count_trainable_params(name, input_shape=shape, **overrides) == _trainable(model)
    if name != "mlp_linear":  # the one model without a hidden width or a window
        assert _trainable(model) > _trainable(default)
    assert any(isinstance(l, keras.layers.Dropout) and l.rate == 0.25 for l in model.layers)
    for layer in model.layers:
        config = layer.get_config()
        for knob in LAYER_KNOBS:
            if knob in overrides and knob in config and not layer.name.startswith("pixel_mlp"):
                assert config[knob] == overrides[knob], f"{layer.name}: {knob}"
        if "delta" in overrides and config.get("delta") not in (None, 0) and name != "cnn1d_paper":
            assert config["delta"] == overrides["delta"], layer.name


def test_kernel_size_is_the_same_window_as_delta():
    by_delta = models.create_model("cnn_small", delta=2)
    by_kernel = models.create_model("cnn_small", kernel_size=5)
    assert by_kernel.count_params() == by_delta.count_params() == models.count_params("cnn_small", kernel_size=5)
    assert by_kernel.get_layer("conv_0").get_config()["kernel_size"] == (5, 5)


def test_width_rounds_and_keeps_one_channel():
    model = models.create_model("cnn_tiny", width=0.1)  # 4·0.1 → 1, 8·0.1 → 1
    assert [model.get_layer(f"conv_{i}").get_config()["filters"] for i in (0, 1)] == [1, 1]
    assert [models.create_model("cnn_tiny", width=0.5).get_layer(f"conv_{i}").get_config()["filters"] for i in (0, 1)] == [2, 4]


def test_none_overrides_are_dropped():
    assert models.count_params("cnn_small", delta=None, width=None) == models.count_params("cnn_small") == 9098


def test_unknown_override_names_model_argument_and_accepted_ones():
    with pytest.raises(ValueError, match=r"Model 'mlp_small' does not take the override `delta` \(received delta=2\)\. "
                                         r"It accepts: dropout, width\."):
        models.create_model("mlp_small", delta=2)
    with pytest.raises(ValueError, match=r"'sharedconv_global' does not take the override `kernel_size`"):
        models.create_model("sharedconv_global", kernel_size=3)
    with pytest.raises(ValueError, match=r"'lc_tiny' does not take the override `implementation`"):
        models.create_model("lc_tiny", implementation="fft")


def test_both_windows_is_an_error():
    with pytest.raises(ValueError, match=r"pass one of `delta` or `kernel_size`, not both\. Received: delta=1, kernel_size=3"):
        models.create_model("cnn_small", delta=1, kernel_size=3)


@pytest.mark.parametrize("kwargs, match", [
    ({"width": 0}, r"`width`.*Received: width=0"),
    ({"width": "2"}, r"`width`.*Received: width='2'"),
    ({"dropout": 1.0}, r"`dropout`.*Received: dropout=1\.0"),
    ({"dropout": -0.1}, r"`dropout`.*Received: dropout=-0\.1"),
    ({"padding_mode": "wrap"}, r"padding_mode.*'wrap'"),
])
def test_bad_values_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.create_model("cnn_tiny", **kwargs)


def test_inputs_stay_channels_last_whatever_keras_says():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        for name in models.list_models():
            dataset = models.model_entry(name).datasets[0]
            model = models.create_model(name, input_shape=DATASET_SHAPES[dataset])
            assert architecture(model) == PINNED[name][dataset], name
            formats = {l.get_config().get("data_format") for l in model.layers} - {None}
            assert formats <= {"channels_last"}, (name, formats)
    finally:
        keras.config.set_image_data_format(previous)


def test_low_rank_models_take_the_papers_parameterization():
    """Elsayed et al.'s mixing on a zoo model: every low-rank layer gets it;
    the row × column weights replace H'·W'·R mixing weights by (H' + W')·R
    (stages of 14×14 and 7×7 outputs, R = 4); the sequence models refuse the
    factorization by name."""
    paper = models.create_model("lrlc_r4_10k", mixing_normalization="softmax", mixing_factorization="row_column")
    default = models.create_model("lrlc_r4_10k")
    layers = [layer for layer in paper.layers if layer.name.startswith("low_rank_")]
    assert len(layers) == 2
    for layer in layers:
        assert (layer.mixing_normalization, layer.mixing_factorization) == ("softmax", "row_column")
    saved = sum((h * w - (h + w)) * 4 for h, w in ((14, 14), (7, 7)))
    assert _trainable(default) - _trainable(paper) == saved
    assert models.count_params("lrlc_r4_10k", mixing_factorization="row_column") == paper.count_params()
    softmax_1d = models.create_model("lrlc1d_r4_10k", mixing_normalization="softmax")
    assert softmax_1d.get_layer("low_rank_0").mixing_normalization == "softmax"
    assert _trainable(softmax_1d) == _trainable(models.create_model("lrlc1d_r4_10k"))
    with pytest.raises(ValueError, match="does not take the override `mixing_factorization`"):
        models.create_model("lrlc1d_r4_10k", mixing_factorization="row_column")

"""`create_model(name, weights=DATASET)`: published weights load checked, and every failure is named.

A temporary weights root (`ZOO_WEIGHTS_DIR`) holds one small model's weights
and a manifest written here with `models.weights`'s writing helpers; nothing
is written into the package.
"""

import json
import os

import numpy as np
import pytest

import keras

from constrained_zoo import models
from constrained_zoo.models import manifest as written
from constrained_zoo.models import weights

SHAPE = (8, 8, 1)  # digits: the smallest images


def _publish(root, name="cnn_tiny", dataset="digits", overrides=None, model=None, fingerprint=True):
    """Publishes `model` (default: `name` built with `overrides`) as `name`'s weights; `fingerprint=False`
    writes an entry as older manifests have them, without "architecture"."""
    model = model or models.create_model(name, input_shape=SHAPE, num_classes=10, **(overrides or {}))
    staged = os.path.join(root, "staged" + written.SUFFIX)
    os.makedirs(root, exist_ok=True)
    model.save_weights(staged)
    entry = written.manifest_entry(model, name, dataset, overrides=overrides, saved=staged)
    path = os.path.join(root, entry["file"])  # named by its content
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.replace(staged, path)
    if not fingerprint:
        del entry["architecture"]
    written.write_manifest(written.updated_manifest(weights.read_manifest(root), entry), root)
    return model, path


def _edit_entry(root, **fields):
    manifest = weights.read_manifest(root)
    manifest["weights"][0].update(fields)
    written.write_manifest(manifest, root)


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv(models.WEIGHTS_DIR_ENV, str(tmp_path))
    return tmp_path


def test_the_package_root_is_the_default(monkeypatch):
    monkeypatch.delenv(models.WEIGHTS_DIR_ENV, raising=False)
    assert models.weights_dir() == os.path.join(os.path.dirname(models.__file__), "weights")


def test_published_weights_load_and_give_the_same_outputs(root):
    saved, _ = _publish(root)
    loaded = models.create_model("cnn_tiny", weights="digits")
    assert loaded.input_shape == (None, *SHAPE) and loaded.output_shape == (None, 10)
    x = np.random.default_rng(0).random((4, *SHAPE), dtype=np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(saved(x)))
    # The weights' own input shape, class count and overrides may be restated.
    models.create_model("cnn_tiny", input_shape=SHAPE, num_classes=10, weights="digits")
    assert [w["model"] for w in models.published_weights("digits")] == ["cnn_tiny"]


def test_weights_with_overrides_build_their_configuration(root):
    saved, _ = _publish(root, overrides={"width": 2, "delta": 2})
    loaded = models.create_model("cnn_tiny", weights="digits")
    assert loaded.count_params() == saved.count_params() != models.create_model("cnn_tiny", input_shape=SHAPE).count_params()
    with pytest.raises(models.WeightsError, match=r"'digits' of 'cnn_tiny': with width=3 the code builds 8,506 parameters "
                                                  r"\(8,506 trainable\); the weights were trained with 4,074 \(4,074 trainable\) and overrides "
                                                  r"\{'delta': 2, 'width': 2\}\. Pass weights=None"):
        models.create_model("cnn_tiny", weights="digits", width=3)


def test_unknown_dataset_is_named(root):
    with pytest.raises(models.WeightsError, match=r"Unknown weights for argument `weights`: 'imagenet'\. "
                                                  r"Weights are published under 'fashion_mnist', 'mnist1d'"):
        models.create_model("cnn_tiny", weights="imagenet")


def test_a_pair_not_published_is_named(root):
    _publish(root)
    with pytest.raises(models.WeightsError, match=r"No published weights 'digits' for model 'cnn_small'.*"
                                                  r"Published as 'digits': cnn_tiny"):
        models.create_model("cnn_small", weights="digits")
    with pytest.raises(models.WeightsError, match=r"No published weights 'mnist1d' for model 'cnn_tiny'.*none yet"):
        models.create_model("cnn_tiny", weights="mnist1d")
    with pytest.raises(ValueError, match=r"Unknown model .*'cnn_tin'"):
        models.create_model("cnn_tin", weights="digits")


def test_a_corrupted_file_is_refused(root):
    _, path = _publish(root)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(models.WeightsError, match=r"'digits' of 'cnn_tiny' are corrupted: .*cnn_tiny-[0-9a-f]{12}\.weights\.h5 has sha256"):
        models.create_model("cnn_tiny", weights="digits")
    os.remove(path)
    with pytest.raises(models.WeightsError, match=r"file .*cnn_tiny-[0-9a-f]{12}\.weights\.h5 is missing"):
        models.create_model("cnn_tiny", weights="digits")


def test_another_architecture_is_refused(root):
    # Weights of a wider model filed as the default one: counts differ.
    _publish(root, model=models.create_model("cnn_tiny", input_shape=SHAPE, width=2))
    with pytest.raises(models.WeightsError, match=r"Architecture mismatch for the weights 'digits' of 'cnn_tiny': "
                                                  r"the code builds 666 parameters"):
        models.create_model("cnn_tiny", weights="digits")


def test_same_counts_other_shapes_are_refused(root):
    # A file of other shapes whose manifest entry states the model's counts
    # (Keras's load_weights only warns on such a file and keeps fresh weights).
    _publish(root, name="mlp_small", model=models.create_model("cnn_tiny", input_shape=SHAPE), fingerprint=False)
    _edit_entry(root, params=4810, trainable_params=4810)  # mlp_small's on 8×8 inputs
    with pytest.raises(models.WeightsError, match=r"Architecture mismatch for the weights 'digits' of 'mlp_small': "
                                                  r".*mlp_small-[0-9a-f]{12}\.weights\.h5 holds weights of shapes"):
        models.create_model("mlp_small", weights="digits")


def test_input_shape_and_classes_must_be_the_weights(root):
    _publish(root)
    with pytest.raises(models.WeightsError, match=r"take input_shape=\(8, 8, 1\)\. Received: input_shape=\(28, 28, 1\)"):
        models.create_model("cnn_tiny", input_shape=(28, 28, 1), weights="digits")
    with pytest.raises(models.WeightsError, match=r"have num_classes=10\. Received: num_classes=5"):
        models.create_model("cnn_tiny", num_classes=5, weights="digits")


# ------------------------------------------------------------- architecture
def test_the_fingerprint_ignores_names_and_dtypes_and_sees_every_setting():
    def dense(activation):  # auto-named layers: dense, dense_1, ... differ between builds
        inputs = keras.Input((3,))
        return keras.Model(inputs, keras.layers.Dense(2, activation=activation)(keras.layers.Dense(4)(inputs)))

    assert models.architecture_fingerprint(dense("relu")) == models.architecture_fingerprint(dense("relu"))
    assert models.architecture_fingerprint(dense("relu")) != models.architecture_fingerprint(dense("tanh"))
    default = models.architecture_fingerprint(models.create_model("cnn_tiny", input_shape=SHAPE))
    assert len(default) == 16 and int(default, 16) >= 0
    assert models.architecture_fingerprint(models.create_model("cnn_tiny", input_shape=SHAPE, width=1)) == default
    circular = models.create_model("cnn_tiny", input_shape=SHAPE, padding_mode="circular")
    assert [w.shape for w in circular.weights] == [w.shape for w in models.create_model("cnn_tiny", input_shape=SHAPE).weights]
    assert models.architecture_fingerprint(circular) != default
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("mixed_float16")
        assert models.architecture_fingerprint(models.create_model("cnn_tiny", input_shape=SHAPE)) == default
    finally:
        keras.config.set_dtype_policy(previous)


def test_another_architecture_of_the_same_shapes_is_refused(root):
    # Weights trained with circular padding, filed as the default model: every
    # shape and count matches; only the fingerprint tells them apart.
    _publish(root, model=models.create_model("cnn_tiny", input_shape=SHAPE, num_classes=10, padding_mode="circular"))
    with pytest.raises(models.WeightsError, match=r"Architecture mismatch for the weights 'digits' of 'cnn_tiny': the code "
                                                  r"builds architecture [0-9a-f]{16}, the weights were trained in "
                                                  r"[0-9a-f]{16} \(manifest field `architecture`\)"):
        models.create_model("cnn_tiny", weights="digits")


def test_an_override_is_refused_when_it_changes_the_architecture(root):
    _publish(root)
    with pytest.raises(models.WeightsError, match=r"trained with overrides \{\}; received padding_mode='circular', which "
                                                  r"builds another architecture \(fingerprint [0-9a-f]{16}, the weights' "
                                                  r"[0-9a-f]{16}\)\. Pass weights=None"):
        models.create_model("cnn_tiny", weights="digits", padding_mode="circular")


def test_an_override_equal_to_its_default_is_accepted(root):
    saved, _ = _publish(root)
    x = np.random.default_rng(0).random((2, *SHAPE), dtype=np.float32)
    for overrides in ({"width": 1}, {"padding_mode": "zeros", "width": 1.0}):
        loaded = models.create_model("cnn_tiny", weights="digits", **overrides)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(saved(x)))


def test_an_override_equal_to_its_default_is_accepted_by_the_shipped_weights(monkeypatch):
    monkeypatch.delenv(models.WEIGHTS_DIR_ENV, raising=False)
    entry = weights.find_published("cnn_small", "fashion_mnist")
    assert entry["architecture"] and entry["overrides"] == {}
    model = models.create_model("cnn_small", weights="fashion_mnist", width=1)
    assert models.architecture_fingerprint(model) == entry["architecture"]


def test_every_shipped_entry_has_the_fingerprint_of_its_configuration(monkeypatch):
    monkeypatch.delenv(models.WEIGHTS_DIR_ENV, raising=False)
    for entry in models.published_weights():
        model = models.create_model(entry["model"], **weights.build_arguments(entry))
        assert models.architecture_fingerprint(model) == entry["architecture"], weights.weights_name(entry)


def test_entries_without_a_fingerprint_load_with_the_shape_checks(root):
    saved, _ = _publish(root, fingerprint=False)
    assert "architecture" not in weights.find_published("cnn_tiny", "digits")
    loaded = models.create_model("cnn_tiny", weights="digits")
    x = np.random.default_rng(0).random((2, *SHAPE), dtype=np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(saved(x)))
    # Without a fingerprint, an override must be the weights' own, as before.
    with pytest.raises(models.WeightsError, match=r"trained with overrides \{\}; received width=1\. Pass weights=None"):
        models.create_model("cnn_tiny", weights="digits", width=1)
    # And the counts are checked.
    _edit_entry(root, params=1, trainable_params=1)
    with pytest.raises(models.WeightsError, match=r"the code builds 666 parameters \(666 trainable\), the weights "
                                                  r"were trained with 1 \(1 trainable\)"):
        models.create_model("cnn_tiny", weights="digits")


# ---------------------------------------------------------------- writing
def test_the_writing_helpers_file_entries_and_write_the_manifest_atomically(tmp_path):
    model = models.create_model("cnn_tiny", input_shape=SHAPE, num_classes=10)
    entry = written.manifest_entry(model, "cnn_tiny", "digits", tag="x")
    assert entry == {
        "model": "cnn_tiny", "dataset": "digits", "tag": "x",
        "overrides": {}, "input_shape": [8, 8, 1], "num_classes": 10, "params": 666, "trainable_params": 666,
        "architecture": models.architecture_fingerprint(model),
    }
    model.save_weights(tmp_path / "saved.weights.h5")
    saved = written.manifest_entry(model, "cnn_tiny", "digits", tag="x", saved=tmp_path / "saved.weights.h5")
    digest = weights.sha256_of(tmp_path / "saved.weights.h5")
    assert saved == {**entry, "sha256": digest, "bytes": os.path.getsize(tmp_path / "saved.weights.h5"),
                     "file": os.path.join("digits", f"cnn_tiny.x-{digest[:12]}.weights.h5")}
    os.remove(tmp_path / "saved.weights.h5")
    manifest = written.updated_manifest(weights.read_manifest(tmp_path), dict(entry, test_accuracy=float("nan")))
    manifest = written.updated_manifest(manifest, {"model": "cnn_tiny", "dataset": "digits"})
    manifest = written.updated_manifest(manifest, {"model": "cnn_tiny", "dataset": "digits", "tag": "x", "seed": 1})
    assert [(weights.weights_name(w), w.get("seed")) for w in manifest["weights"]] == [("digits", None), ("digits.x", 1)]
    path = written.write_manifest(dict(manifest, weights=manifest["weights"] + [{"loss": float("inf")}]), tmp_path)
    assert path == weights.manifest_path(tmp_path) and sorted(os.listdir(tmp_path)) == ["manifest.json"]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n" and '"loss": null' in text


def test_the_public_module_offers_what_it_lists():
    assert sorted(weights.__all__) == weights.__all__
    missing = [name for name in weights.__all__ if not hasattr(weights, name)]
    assert not missing
    assert models.WeightsError is weights.WeightsError and models.weights_dir is weights.weights_dir

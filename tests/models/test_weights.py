"""`create_model(name, weights=DATASET)`: published weights load checked, and every failure is named.

A temporary weights root (`ZOO_WEIGHTS_DIR`) holds one small model's weights
and a manifest written here; nothing is written into the package.
"""

import json
import math
import os

import numpy as np
import pytest

import keras

import models
from models import _weights

SHAPE = (8, 8, 1)  # digits: the smallest images


def _publish(root, name="cnn_tiny", dataset="digits", overrides=None, model=None):
    model = model or models.create_model(name, input_shape=SHAPE, num_classes=10, **(overrides or {}))
    path = _weights.weights_file(name, dataset, root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.save_weights(path)
    entry = {
        "model": name, "dataset": dataset, "file": os.path.relpath(path, root), "sha256": _weights.sha256_of(path),
        "bytes": os.path.getsize(path), "overrides": overrides or {}, "input_shape": list(SHAPE), "num_classes": 10,
        "params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
    }
    manifest = _weights.read_manifest(root)
    manifest["weights"].append(entry)
    with open(_weights.manifest_path(root), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    return model, path


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
    with pytest.raises(models.WeightsError, match=r"trained with overrides \{'width': 2, 'delta': 2\}; received width=3"):
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
    with pytest.raises(models.WeightsError, match=r"'digits' of 'cnn_tiny' are corrupted: .*cnn_tiny\.weights\.h5 has sha256"):
        models.create_model("cnn_tiny", weights="digits")
    os.remove(path)
    with pytest.raises(models.WeightsError, match=r"file .*cnn_tiny\.weights\.h5 is missing"):
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
    _publish(root, name="mlp_small", model=models.create_model("cnn_tiny", input_shape=SHAPE))
    manifest = _weights.read_manifest(root)
    manifest["weights"][0].update(params=4810, trainable_params=4810)  # mlp_small's on 8×8 inputs
    with open(_weights.manifest_path(root), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    with pytest.raises(models.WeightsError, match=r"Architecture mismatch for the weights 'digits' of 'mlp_small': "
                                                  r".*mlp_small\.weights\.h5 holds weights of shapes"):
        models.create_model("mlp_small", weights="digits")


def test_input_shape_and_classes_must_be_the_weights(root):
    _publish(root)
    with pytest.raises(models.WeightsError, match=r"take input_shape=\(8, 8, 1\)\. Received: input_shape=\(28, 28, 1\)"):
        models.create_model("cnn_tiny", input_shape=(28, 28, 1), weights="digits")
    with pytest.raises(models.WeightsError, match=r"have num_classes=10\. Received: num_classes=5"):
        models.create_model("cnn_tiny", num_classes=5, weights="digits")

"""Weights from any backend: the shipped files give the same logits under TensorFlow, JAX and torch.

`tests/models/backend_logits.py` loads every entry of the manifest
(`models/weights/`) in a fresh process per backend and saves its logits on a
batch of test inputs: Fashion-MNIST's first test images (or, where the IDX
files are absent, seeded uniform images in [0, 1]) and MNIST-1D's first test
sequences. The three files must agree within float32 tolerance.

`make test` checks one file per (family, rank), the smallest of each
(`SMALLEST`, 11 files); `make test-slow` checks every file of the manifest
(about ten minutes per backend on 2 cores).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKENDS = ("tensorflow", "jax", "torch")
BATCH = 32
#: float32 logits of O(10) after a few layers whose sums run in different
#: orders on each backend: float32 rounding, not a different computation.
RTOL = ATOL = 1e-4
TIMEOUT = 1200  # seconds per backend, for the whole manifest on two busy cores
#: The smallest shipped model of each (family, rank), and the batch-normalized CNN: (weights name, model).
SMALLEST = (
    ("fashion_mnist", "cnn_tiny"), ("fashion_mnist", "cnn_bn_10k"), ("fashion_mnist", "fc2d_tiny"),
    ("fashion_mnist", "lc_tiny"), ("fashion_mnist", "lrlc_r2_10k"), ("fashion_mnist", "sharedconv_tiny"),
    ("mnist1d", "cnn1d_tiny"), ("mnist1d", "fc1d_tiny"), ("mnist1d", "lc1d_tiny"), ("mnist1d", "lrlc1d_r2_10k"),
    ("mnist1d", "sharedconv1d_tiny"),
)


def _smallest_files():
    """The manifest's files of `SMALLEST` (a file's name carries its hash, so it is looked up, not written)."""
    from constrained_zoo.models import weights

    found = {(weights.weights_name(w), w["model"]): w["file"] for w in weights.published_weights()}
    missing = [key for key in SMALLEST if key not in found]
    assert not missing, f"not in the manifest: {missing}"
    return tuple(found[key] for key in SMALLEST)


def _inputs(path):
    from constrained_zoo.training.data import sources  # the tests may use training; `models` never does

    fashion_dir = "/usr/share/datasets/fashion-mnist"
    try:
        _, (fashion, _) = sources.load_arrays("fashion_mnist", data_dir=fashion_dir)
        fashion = fashion[:BATCH]
    except Exception:  # no offline copy: images of the same shape and range
        fashion = np.random.default_rng(0).uniform(0, 1, (BATCH, 28, 28, 1)).astype(np.float32)
    _, (sequences, _) = sources.load_arrays("mnist1d")
    np.savez(path, fashion_mnist=fashion, mnist1d=sequences[:BATCH].astype(np.float32))


def _backend_available(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


needs_all = pytest.mark.skipif(
    not all(map(_backend_available, BACKENDS)), reason="needs tensorflow, jax and torch installed"
)


@needs_all
def test_the_smallest_model_of_each_family_gives_the_same_logits_on_every_backend(tmp_path):
    _check(tmp_path, _smallest_files())


@needs_all
@pytest.mark.slow
def test_every_shipped_file_gives_the_same_logits_on_every_backend(tmp_path):
    _check(tmp_path, ())


def _check(tmp_path, files):
    """Runs backend_logits under each backend on `files` (all if empty) and compares to TensorFlow's."""
    inputs = tmp_path / "inputs.npz"
    _inputs(inputs)
    logits = {}
    for backend in BACKENDS:
        out = tmp_path / f"{backend}.npz"
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        done = subprocess.run(
            [sys.executable, "-m", "tests.models.backend_logits", str(inputs), str(out), *files],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        )
        assert done.returncode == 0, f"{backend}: {done.stderr[-3000:]}"
        logits[backend] = dict(np.load(out))
        assert str(logits[backend].pop("backend")) == backend
    reference = logits["tensorflow"]
    from constrained_zoo.models import weights

    expected_keys = {f["file"].replace("/", "__") for f in weights.published_weights() if not files or f["file"] in files}
    assert set(reference) == expected_keys and len(expected_keys) > 0
    for backend in BACKENDS[1:]:
        assert set(logits[backend]) == expected_keys
        for name, y in reference.items():
            other = logits[backend][name]
            worst = float(np.max(np.abs(other - y)))
            np.testing.assert_allclose(
                other, y, rtol=RTOL, atol=ATOL, err_msg=f"{name}: {backend} vs tensorflow (max |diff| {worst:.2e})"
            )
            np.testing.assert_array_equal(other.argmax(-1), y.argmax(-1), err_msg=f"{name}: {backend} predicts otherwise")

"""The package as a user gets it: a non-editable install, imported from elsewhere; the layers without TensorFlow.

- `pip install --target DIR .` (no dependencies: they are this
  environment's), then, from a folder holding a project's own `models/` and
  `training/` packages: `constrained_zoo.models` is the installed zoo (not
  the folder's, not the checkout's), loads shipped weights and predicts an
  image file; `python -m constrained_layers.params` and the `czoo-predict`
  script run.
- Under `KERAS_BACKEND=jax` with TensorFlow made unimportable, every layer
  builds and runs, and a zoo model loads its shipped weights.
"""

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 600


def _run(argv, cwd, env, timeout=TIMEOUT):
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target = tmp_path_factory.mktemp("target")
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "--target", str(target), REPO], cwd=REPO, env=dict(os.environ))
    return target


def _shoe(path):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (90, 60), "white")
    ImageDraw.Draw(image).polygon([(8, 45), (8, 20), (30, 18), (45, 34), (84, 40), (84, 52), (8, 52)], fill="black")
    image.save(path)


USE = """
import json, sys
import models, training                     # this folder's own packages
from constrained_zoo import models as zoo   # the installed zoo
model = zoo.create_model("cnn_bn_10k", weights="fashion_mnist")
top = zoo.decode_predictions(model.predict(zoo.preprocess(["shoe.png"], "fashion_mnist"), verbose=0),
                             "fashion_mnist", top=3)[0]
print(json.dumps({"own": [models.MINE, training.MINE], "zoo": zoo.__file__, "top": top,
                  "classes": list(zoo.class_names("fashion_mnist"))}))
"""


def test_a_non_editable_install_works_from_another_folder_beside_its_own_models(installed, tmp_path):
    for name in ("models", "training"):  # a project's own packages, which must not shadow ours
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"MINE = {name!r}\n")
    _shoe(tmp_path / "shoe.png")
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    env.update(PYTHONPATH=str(installed), KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="")
    before = sorted(os.listdir(tmp_path))
    import json

    done = _run([sys.executable, "-c", USE], cwd=tmp_path, env=env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["own"] == ["models", "training"]
    assert result["zoo"].startswith(str(installed)), result["zoo"]
    assert len(result["top"]) == 3 and {name for name, _ in result["top"]} <= set(result["classes"])
    params = _run([sys.executable, str(installed / "bin" / "czoo-params"), "--height", "100", "--width", "100",
                   "--delta", "2"], cwd=tmp_path, env=env)
    assert "100,000,000" in params.stdout and params.stderr == ""  # a command: no TensorFlow start-up lines
    script = installed / "bin" / "czoo-predict"
    predicted = _run([sys.executable, str(script), "--model", "cnn_bn_10k", "--weights", "fashion_mnist", "shoe.png"],
                     cwd=tmp_path, env=env)
    assert "shoe.png" in predicted.stdout and "%" in predicted.stdout and predicted.stderr == ""
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


JAX_WITHOUT_TENSORFLOW = """
import sys
sys.modules["tensorflow"] = None  # any `import tensorflow` now fails
import numpy as np
import constrained_layers as cl
from constrained_zoo import models
x2, x1 = np.random.default_rng(0).random((2, 8, 8, 3), "float32"), np.random.default_rng(0).random((2, 12, 3), "float32")
layers = [cl.FullyConnected2D(4), cl.LocallyConnected(4, 3), cl.LowRankLocallyConnected(4, 3, num_kernels=2),
          cl.SharedConv(3), cl.MultiChannelConv(4, 3)]
layers1 = [cl.FullyConnected1D(4), cl.LocallyConnected1D(4, 3), cl.LowRankLocallyConnected1D(4, 3, num_kernels=2),
           cl.SharedConv1D(3), cl.MultiChannelConv1D(4, 3)]
shapes = [tuple(layer(x2).shape) for layer in layers] + [tuple(layer(x1).shape) for layer in layers1]
model = models.create_model("cnn1d_bn_5k", weights="mnist1d")
import keras
print(keras.backend.backend(), "tensorflow" in {m.split(".")[0] for m in sys.modules if sys.modules[m] is not None},
      len(shapes), tuple(model.output_shape))
"""


def test_the_layers_and_the_zoo_run_under_jax_without_tensorflow(tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": REPO}
    done = _run([sys.executable, "-c", JAX_WITHOUT_TENSORFLOW], cwd=tmp_path, env=env)
    assert done.stdout.split() == ["jax", "False", "10", "(None,", "10)"], done.stdout


def test_the_sdist_carries_what_it_takes_to_test_and_reproduce(tmp_path):
    import tarfile

    _run([sys.executable, "-c", "from setuptools import setup; setup()", "--quiet", "sdist", "--dist-dir",
          str(tmp_path)], cwd=REPO, env=dict(os.environ))
    [archive] = list(tmp_path.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in ("constraints.txt", "docs/package.md", "tests/test_docs.py", "tests/training/test_concurrency.py",
                   "notebooks/01_from_fully_connected_to_convolutions.ipynb", "models/weights/manifest.json",
                   "Makefile", "CHANGELOG.md"):
        assert needed in names, needed

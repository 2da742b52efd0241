"""Every zoo model trains one step under XLA (`compile(..., jit_compile=True)`).

Parametrized over `models.list_models()`, like test_models.py: each model,
built for the first dataset it is meant for, compiled with
`jit_compile=True`, runs one `train_on_batch` step: the model really is
jit-compiled, the loss is finite and every trainable weight changed.

Cost, measured on a 2-core CPU (one process): the whole zoo, 41 models up to
1.3M parameters, takes about 60 s on TensorFlow and about 190 s on JAX (where
building a model dominates: every initializer compiles for every new kernel
shape). So the default run (`make test`) keeps the smallest model of each
family for each input rank (`SMALLEST`, 12 models), and the others are marked `slow` (`make
test-slow`). A model registered later is tested too, as slow, until it is
the smallest of its family; `test_smallest_is_the_smallest_of_each_family`
(slow: it builds every model) keeps `SMALLEST` honest.

Backends: the file does not depend on one; `make test` runs tests/models on
TensorFlow only, so running it on JAX needs this file on the JAX line of
the Makefile.
"""

import keras
import numpy as np
import pytest

from constrained_zoo import models
from tests.models.pin_architectures import DATASET_SHAPES


#: On torch, `jit_compile=True` is `torch.compile` (Inductor), not XLA: measured 2-4.5 minutes
#: per model on 2 cores (lc_tiny, lc1d_tiny, cnn1d_tiny), and cnn_tiny fails in Dynamo with
#: "cannot determine truth value of Relational" on a dynamic batch size (that error's reports:
#: https://github.com/pytorch/pytorch/issues/185510). docs/pytorch.md gives the command that measures torch.compile.
pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="jit_compile=True is torch.compile on torch: minutes per model on a 2-core CPU, and a Dynamo "
    "dynamic-shape error (https://github.com/pytorch/pytorch/issues/185510); docs/pytorch.md gives the command that measures it",
)


#: The model with the fewest parameters of each (family, rank) of the zoo.
SMALLEST = frozenset(
    {
        "cnn1d_tiny", "cnn_tiny",  # multi_channel_conv
        "fc1d_tiny", "fc2d_tiny",  # fully_connected
        "lc1d_tiny", "lc_tiny",  # locally_connected
        "lrlc1d_r8_10k", "lrlc_r2_10k",  # low_rank_locally_connected
        "mlp_1d_tiny", "mlp_linear",  # mlp
        "sharedconv1d_tiny", "sharedconv_tiny",  # shared_conv
    }
)


def _input_shape(name):
    return DATASET_SHAPES[models.model_entry(name).datasets[0]]


def _cases():
    for name in models.list_models():
        marks = () if name in SMALLEST else (pytest.mark.slow,)
        yield pytest.param(name, id=name, marks=marks)


@pytest.mark.parametrize("name", list(_cases()))
def test_one_xla_training_step(name):
    keras.utils.set_random_seed(0)
    input_shape = _input_shape(name)
    model = models.create_model(name, input_shape=input_shape, num_classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=True,
    )
    assert model.jit_compile is True
    rng = np.random.default_rng(0)
    x = rng.random((8, *input_shape), dtype=np.float32)
    y = rng.integers(0, 10, 8)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]

    logs = model.train_on_batch(x, y, return_dict=True)

    assert np.isfinite(logs["loss"]), logs
    unchanged = [
        w.path for w, old in zip(model.trainable_weights, before) if np.array_equal(keras.ops.convert_to_numpy(w), old)
    ]
    assert not unchanged, f"no update reached {unchanged} in the XLA training step"


def test_smallest_names_one_model_per_family_and_rank():
    """Cheap: SMALLEST holds registered models, one per (family, rank) of the zoo."""
    groups = {(models.model_entry(n).family, models.model_entry(n).rank) for n in models.list_models()}
    chosen = [(models.model_entry(n).family, models.model_entry(n).rank) for n in sorted(SMALLEST)]
    assert sorted(chosen) == sorted(groups)


@pytest.mark.slow
def test_smallest_is_the_smallest_of_each_family():
    smallest = {}
    for name in models.list_models():
        entry = models.model_entry(name)
        count = models.create_model(name, input_shape=_input_shape(name), num_classes=10).count_params()
        key = (entry.family, entry.rank)
        if key not in smallest or count < smallest[key][0]:
            smallest[key] = (count, name)
    assert {name for _, name in smallest.values()} == SMALLEST

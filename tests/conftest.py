"""Every test starts from the same random state, whatever ran before it.

Layers and models draw their initial weights from Keras's global random
state (and some tests from NumPy's or Python's): without a fixed seed a test
sees different weights on each run and in each order, so a rare draw (a first
ReLU layer of 8 filters on a 1-channel input that happens to be dead, which
leaves some weights without a gradient) fails it once in a few hundred runs.
`keras.utils.set_random_seed` seeds Python's `random`, NumPy's global
generator, TensorFlow's (when it is imported) and Keras's, before each test.

The suite's order must not matter: `make test` runs it in a fixed order
(`-p no:randomly`); `pytest --randomly-seed=N` (pytest-randomly, part of the
`test` extra) shuffles it.
"""

import os

import keras
import pytest

# A developer's checkout under test is often dirty: let the training runs of the tests go on
# (tests/training/test_provenance.py checks the refusal without it).
os.environ.setdefault("CZOO_ALLOW_DIRTY", "1")

#: The seed every test starts from.
SEED = 1234


@pytest.fixture(autouse=True)
def _seeded():
    """Seeds every random generator a test may draw from (`keras.utils.set_random_seed`)."""
    keras.utils.set_random_seed(SEED)

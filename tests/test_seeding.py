"""`tests/conftest.py` seeds every test: each starts from `keras.utils.set_random_seed(SEED)`'s state."""

import random

import keras
import numpy as np

from tests.conftest import SEED


def _draws():
    layer = keras.layers.Dense(3)
    layer.build((None, 4))
    return keras.ops.convert_to_numpy(layer.kernel), np.random.rand(2), random.random()


def test_a_test_starts_from_the_seeded_state():
    kernel, numpy_draw, python_draw = _draws()  # first draws of this test: what the fixture left
    keras.utils.set_random_seed(SEED)
    again = _draws()
    np.testing.assert_array_equal(kernel, again[0])
    np.testing.assert_array_equal(numpy_draw, again[1])
    assert python_draw == again[2]

"""`cnn_strided`/`cnn1d_strided`: the locally connected and low-rank models' design with full sharing.

The low-rank model with one kernel and every mixing weight 1 computes the
strided convolution model given the same kernels, biases and head (exactly,
up to float32 summation order), so a comparison of the three families
differs only in how much the kernels are shared. Same layer layout as the
locally connected model too: the same output shapes stage by stage.
"""

import keras
import numpy as np
import pytest

from constrained_zoo import models
from constrained_zoo.models.low_rank import build_low_rank_locally_connected
from constrained_zoo.models.multi_channel_conv import build_strided_cnn

CASES = [((40, 1), (4, 3, 5), {"delta": 2}), ((12, 10, 2), (3, 4), {"delta": 1})]


@pytest.mark.parametrize("input_shape, widths, window", CASES, ids=["1d", "2d"])
def test_low_rank_with_one_kernel_and_unit_mixing_is_the_strided_cnn(input_shape, widths, window):
    keras.utils.set_random_seed(0)
    conv = build_strided_cnn("conv", input_shape, 10, widths, **window)
    low_rank = build_low_rank_locally_connected("lrlc", input_shape, 10, widths, num_kernels=1, **window)
    rng = np.random.default_rng(0)
    conv.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in conv.weights])
    values = iter(conv.get_weights())
    for layer in low_rank.layers:
        if layer.name.startswith("low_rank_"):
            kernel, bias = next(values), next(values)  # (*K, C, F), (F,)
            layer.set_weights([kernel[..., None, :], bias[None, :], np.ones(tuple(layer.mixing.shape))])
        elif layer.weights:
            layer.set_weights([next(values) for _ in layer.weights])
    x = rng.uniform(-1, 1, (3, *input_shape)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(low_rank(x)), keras.ops.convert_to_numpy(conv(x)),
                               atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("strided, local", [("cnn1d_strided", "lc1d_base"), ("cnn_strided", "lc_base")])
def test_the_strided_cnn_has_the_locally_connected_models_stages(strided, local):
    shapes = [[tuple(l.output.shape) for l in models.create_model(name).layers] for name in (strided, local)]
    assert shapes[0] == shapes[1]

"""Every layer trains under XLA: `model.compile(..., jit_compile=True)`.

For each of the ten public layers, and for SharedConv / MultiChannelConv
(1D and 2D) on the FFT path, with a boundary other than zeros and with
`convolution=True`: a tiny model (the layer, Flatten, Dense(1)) compiled
with `jit_compile=True` runs one `fit` step, and

- the compiled model really is jit-compiled (`model.jit_compile`),
- the loss it reports (computed before the update, by the XLA function)
  equals the mean squared error of the eager forward pass,
- every trainable weight, the layer's and the head's, changed.

The file sits in tests/layers so that `make test` runs it on TensorFlow
(where XLA is opt-in: a layer using an op without an XLA kernel, or a shape
XLA cannot make static, fails here) and on JAX (where every `fit` is jitted).
Each case compiles one small model: about 1 s on TensorFlow, 1-2 s on JAX,
on a 2-core CPU.
"""

import keras
import numpy as np
import pytest

import constrained_layers as cl
from tests.layers import helpers


#: On torch, `jit_compile=True` is `torch.compile` (Inductor), not XLA: measured 2-4.5 minutes
#: per model on 2 cores (lc_tiny, lc1d_tiny, cnn1d_tiny), and cnn_tiny fails in Dynamo with
#: "cannot determine truth value of Relational" on a dynamic batch size (that error's reports:
#: https://github.com/pytorch/pytorch/issues/185510). docs/pytorch.md gives the command that measures torch.compile.
pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "torch",
    reason="jit_compile=True is torch.compile on torch: minutes per model on a 2-core CPU, and a Dynamo "
    "dynamic-shape error (https://github.com/pytorch/pytorch/issues/185510); docs/pytorch.md gives the command that measures it",
)


def case(layer_cls, kwargs, input_shape):
    kw = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return pytest.param(layer_cls, kwargs, input_shape, id=f"{layer_cls.__name__}({kw})")


CASES = [
    case(cl.FullyConnected1D, {"filters": 2}, (2, 6, 2)),
    case(cl.FullyConnected2D, {"filters": 2, "output_size": (2, 3)}, (2, 4, 5, 2)),
    # The gather-based kernel with its own gradient, on explicit boundaries.
    case(cl.LocallyConnected1D, {"filters": 2, "delta": 1, "padding_mode": "reflect", "convolution": True}, (2, 7, 2)),
    case(cl.LocallyConnected, {"filters": 2, "kernel_size": (2, 3), "strides": 2, "padding_mode": "symmetric"},
         (2, 5, 6, 2)),
    # One convolution to R·filters channels, then the per-position mixing.
    case(cl.LowRankLocallyConnected1D, {"filters": 2, "delta": 1, "num_kernels": 3, "padding_mode": "reflect"},
         (2, 7, 2)),
    case(cl.LowRankLocallyConnected,
         {"filters": 2, "kernel_size": (2, 3), "strides": 2, "num_kernels": 2, "convolution": True}, (2, 5, 6, 2)),
    # Elsayed et al.'s mixing: a softmax of row plus column logits.
    case(cl.LowRankLocallyConnected,
         {"filters": 2, "delta": 1, "num_kernels": 3, "mixing_normalization": "softmax",
          "mixing_factorization": "row_column"}, (2, 5, 6, 2)),
    # The direct op: zeros (the op pads) and explicit boundaries.
    case(cl.SharedConv1D, {"delta": 1, "padding_mode": "circular"}, (2, 7, 2)),
    case(cl.SharedConv, {"delta": 1}, (2, 5, 6, 2)),
    case(cl.MultiChannelConv1D, {"filters": 3, "delta": 1}, (2, 7, 2)),
    case(cl.MultiChannelConv, {"filters": 3, "delta": 1, "padding_mode": "reflect", "convolution": True},
         (2, 5, 6, 2)),
    # The FFT path (convolution theorem), with every other boundary and the flip.
    case(cl.SharedConv1D, {"delta": 2, "implementation": "fft", "padding_mode": "symmetric", "convolution": True},
         (2, 7, 2)),
    case(cl.SharedConv,
         {"kernel_size": (2, 3), "strides": 2, "implementation": "fft", "padding_mode": "circular",
          "convolution": True},
         (2, 5, 6, 2)),
    case(cl.MultiChannelConv1D,
         {"filters": 2, "kernel_size": 4, "implementation": "fft", "padding_mode": "reflect", "convolution": True},
         (2, 7, 2)),
    case(cl.MultiChannelConv,
         {"filters": 2, "delta": 1, "implementation": "fft", "padding_mode": "symmetric", "convolution": True},
         (2, 5, 6, 2)),
]


@pytest.mark.parametrize("layer_cls, kwargs, input_shape", CASES)
def test_one_xla_training_step(layer_cls, kwargs, input_shape):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(helpers.seed_of(layer_cls.__name__, kwargs))
    x = helpers.random_input(rng, input_shape)
    targets = rng.standard_normal((input_shape[0], 1)).astype("float32")
    layer = layer_cls(**kwargs, **helpers.FAST_INIT)
    model = keras.Sequential(
        [keras.Input(shape=input_shape[1:]), layer, keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss="mse", jit_compile=True)
    assert model.jit_compile is True
    # Random weights everywhere (the biases start at zero): a weight that
    # did not move cannot pass for one that did.
    for w in model.trainable_weights:
        w.assign(0.3 * rng.standard_normal(tuple(w.shape)).astype("float32"))
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    eager_loss = float(np.mean((keras.ops.convert_to_numpy(model(x)) - targets) ** 2))

    history = model.fit(x, targets, batch_size=input_shape[0], epochs=1, verbose=0)

    (loss,) = history.history["loss"]
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, eager_loss, rtol=1e-4, err_msg="the XLA step's loss is not the eager forward's")
    unchanged = [
        w.path for w, old in zip(model.trainable_weights, before) if np.array_equal(keras.ops.convert_to_numpy(w), old)
    ]
    assert not unchanged, f"no update reached {unchanged} in the XLA training step"


def test_cases_cover_every_layer_and_path():
    layers = {p.values[0] for p in CASES}
    assert layers == {
        cl.FullyConnected1D, cl.FullyConnected2D, cl.LocallyConnected1D, cl.LocallyConnected,
        cl.LowRankLocallyConnected1D, cl.LowRankLocallyConnected,
        cl.SharedConv1D, cl.SharedConv, cl.MultiChannelConv1D, cl.MultiChannelConv,
    }
    fft = {p.values[0] for p in CASES if p.values[1].get("implementation") == "fft"}
    assert fft == {cl.SharedConv1D, cl.SharedConv, cl.MultiChannelConv1D, cl.MultiChannelConv}

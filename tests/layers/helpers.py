"""Small helpers shared by the numerics, interop and property tests.

Example:

>>> layer = cl.MultiChannelConv(filters=2, delta=1, **FAST_INIT)
>>> x = random_input(np.random.default_rng(0), (2, 7, 6, 3))
>>> _ = assign_random_weights(layer, x.shape, np.random.default_rng(1))
>>> run(layer, x).shape
(2, 7, 6, 2)
"""

import math
import zlib

import numpy as np
from keras import ops

import constrained_layers as cl

#: Tolerance of every numeric comparison: float32 arithmetic on data of unit
#: scale (inputs in [-1, 1], kernels scaled by 1/sqrt(fan-in), outputs O(1)).
ATOL = 1e-5
RTOL = 1e-5

#: Constructor arguments for layers whose weights `assign_random_weights`
#: overwrites: on JAX, Glorot's random draw compiles anew for every kernel
#: shape (about a second each on a small CPU), zeros do not.
FAST_INIT = {"kernel_initializer": "zeros"}


def seed_of(*values):
    """A reproducible seed from a test's parameters (unlike `hash`, stable across runs)."""
    return zlib.crc32(repr(values).encode())


def random_input(rng, shape):
    """Float32 input, uniform in [-1, 1]."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def kernel_fan_in(layer, kernel_shape):
    """How many inputs one output of `layer` sums over (to scale the kernel)."""
    rank = layer.rank
    if isinstance(layer, cl.fully_connected.BaseFullyConnected):
        return math.prod(kernel_shape[: rank + 1])  # H·W·C
    if isinstance(layer, cl.locally_connected.BaseLocallyConnected):
        return kernel_shape[1]  # kh·kw·C
    if isinstance(layer, cl.shared_conv.BaseSharedConv):
        return math.prod(kernel_shape[:rank])  # kh·kw
    return math.prod(kernel_shape[:-1])  # kh·kw·C


def assign_random_weights(layer, input_shape, rng):
    """Builds `layer` and sets every weight to seeded random values.

    The kernel is uniform in [-1, 1]/sqrt(fan-in) and the bias uniform in
    [-1, 1] (never the zero initialization, which would hide a misplaced
    bias).

    Returns:
        The list of numpy weights, in `layer.get_weights()` order.
    """
    if not layer.built:
        layer.build(tuple(input_shape))
    weights = []
    for variable in layer.weights:
        shape = tuple(variable.shape)
        values = rng.uniform(-1.0, 1.0, size=shape)
        if variable is layer.kernel:
            values = values / math.sqrt(kernel_fan_in(layer, shape))
        weights.append(values.astype(np.float32))
    layer.set_weights(weights)
    return weights


def run(layer, x):
    """The layer's output on x, as a numpy array."""
    return np.asarray(ops.convert_to_numpy(layer(x)))


def dependence(layer, x, per_channel=False, eps=1.0, tol=1e-6):
    """Which outputs change when one input pixel changes (backend-agnostic).

    Runs the layer once on a batch: x itself and one copy of x per input pixel
    (all channels, or one channel with `per_channel`) with `eps` added.

    Args:
        layer: a built layer (random weights assigned).
        x: one input (1, *spatial, C).

    Returns:
        A bool array (*in_spatial, *out_spatial), or with `per_channel`
        (*in_spatial, C_in, *out_spatial, C_out): True where the output at
        that position changes with the input at that pixel.
    """
    spatial, channels = x.shape[1:-1], x.shape[-1]
    cells = (*spatial, channels) if per_channel else tuple(spatial)
    batch = np.repeat(x, 1 + math.prod(cells), axis=0)
    for index, cell in enumerate(np.ndindex(*cells), start=1):
        batch[(index, *cell)] += eps  # a pixel: all channels; a cell: one channel
    y = run(layer, batch)  # (1 + cells, *out_spatial, F)
    changed = np.abs(y[1:] - y[:1]) > tol  # (cells, *out_spatial, F)
    if per_channel:
        return changed.reshape(*cells, *changed.shape[1:])
    return changed.any(axis=-1).reshape(*cells, *changed.shape[1:-1])

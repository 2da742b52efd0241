"""The properties §7.1 derives the convolution from, checked on the layers.

- Translation equivariance: with circular padding (the torus) and stride 1,
  shifting the input shifts the output, exactly; with zero padding only away
  from the border.
- Locality: with half-width Δ an output depends on exactly the (2Δ+1)-wide
  window of input pixels around it (LocallyConnected,
  LowRankLocallyConnected, SharedConv, MultiChannelConv); the fully connected layer and SharedConv's whole-image
  kernel depend on every pixel.
- Exercise 1: a Δ = 0 convolution is a Dense layer applied to each pixel.
- Exercise 6: `convolution=True` is scipy's convolution (and so commutative),
  `convolution=False` scipy's cross-correlation.

Dependence is measured by perturbing one input pixel at a time (one batched
forward pass, any backend). Every layer gets seeded random weights with a
non-zero bias first. Tolerance: atol = rtol = 1e-5.
"""

import keras
import numpy as np
import pytest
import scipy.signal

import constrained_layers as cl
from tests.layers import helpers, reference

SPATIAL = {1: (11,), 2: (7, 6)}
SHIFTS = {1: (3,), 2: (2, -1)}
CHANNELS = 2
FILTERS = 2


def _close(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def _layer(name, rank, **kwargs):
    """A constrained layer by family name and rank, with random-ready init."""
    classes = {
        "LocallyConnected": (cl.LocallyConnected1D, cl.LocallyConnected),
        "LowRankLocallyConnected": (cl.LowRankLocallyConnected1D, cl.LowRankLocallyConnected),
        "SharedConv": (cl.SharedConv1D, cl.SharedConv),
        "MultiChannelConv": (cl.MultiChannelConv1D, cl.MultiChannelConv),
        "FullyConnected": (cl.FullyConnected1D, cl.FullyConnected2D),
    }
    if name != "SharedConv":
        kwargs["filters"] = FILTERS
    if name == "LowRankLocallyConnected":
        kwargs["num_kernels"] = 3
    return classes[name][rank - 1](**kwargs, **helpers.FAST_INIT)


def _built(name, rank, seed, channels=CHANNELS, **kwargs):
    """(layer with random weights, one random input of shape (1, *spatial, C))."""
    rng = np.random.default_rng(seed)
    x = helpers.random_input(rng, (1, *SPATIAL[rank], channels))
    layer = _layer(name, rank, **kwargs)
    helpers.assign_random_weights(layer, x.shape, rng)
    return layer, x


def _window_id(window):
    ((name, value),) = window.items() if window else (("whole", ""),)
    return f"{name}{value}".replace(" ", "")


# ------------------------------------------------- translation equivariance
EQUIVARIANT = [
    (name, rank, window)
    for rank in (1, 2)
    for name, window in (
        ("SharedConv", {"delta": 1}),
        ("SharedConv", {"kernel_size": (4,) if rank == 1 else (2, 3)}),
        ("SharedConv", {}),  # whole-image kernel
        ("MultiChannelConv", {"delta": 1}),
        ("MultiChannelConv", {"kernel_size": (4,) if rank == 1 else (2, 3)}),
    )
]


@pytest.mark.parametrize(
    "name, rank, window", EQUIVARIANT, ids=[f"{n}-{r}d-{_window_id(w)}" for n, r, w in EQUIVARIANT]
)
def test_circular_padding_is_exactly_translation_equivariant(name, rank, window):
    layer, x = _built(name, rank, helpers.seed_of(name, rank, window), padding_mode="circular", **window)
    axes = tuple(range(1, rank + 1))
    shifted = np.roll(x, SHIFTS[rank], axis=axes)
    y = helpers.run(layer, x)
    _close(helpers.run(layer, shifted), np.roll(y, SHIFTS[rank], axis=axes))


@pytest.mark.parametrize("name", ("SharedConv", "MultiChannelConv"))
@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_zero_padding_is_equivariant_only_away_from_the_border(name, rank):
    delta = 1
    shift = {1: (2,), 2: (1, 2)}[rank]  # positive: x'[p] = x[p - d] for p >= d
    layer, x = _built(name, rank, helpers.seed_of(name, rank), delta=delta)
    axes = tuple(range(1, rank + 1))
    y_of_shifted = helpers.run(layer, np.roll(x, shift, axis=axes))
    shifted_y = np.roll(helpers.run(layer, x), shift, axis=axes)

    # Output i reads inputs i-Δ..i+Δ: equal where that window, in the shifted
    # input, lies in [d, n-1] (no wrapped pixel, no padding).
    interior = tuple(slice(d + delta, n - delta) for d, n in zip(shift, SPATIAL[rank]))
    assert all(s.stop - s.start >= 2 for s in interior)
    _close(y_of_shifted[(slice(None), *interior)], shifted_y[(slice(None), *interior)])
    assert np.abs(y_of_shifted - shifted_y).max() > 1e-2  # the border breaks it


# ----------------------------------------------------------------- locality
def _window_mask(spatial, deltas):
    """mask[k..., i...] = True where input pixel k is within Δ of output i."""
    grids = []
    for n, d in zip(spatial, deltas):
        k, i = np.arange(n)[:, None], np.arange(n)[None, :]
        near = np.abs(k - i) <= d  # (n_in, n_out) along this axis
        grids.append(near)
    if len(grids) == 1:
        return grids[0]
    return grids[0][:, None, :, None] & grids[1][None, :, None, :]  # (H, W, H', W')


LOCAL = [
    (name, rank, delta, mode)
    for name in ("LocallyConnected", "LowRankLocallyConnected", "SharedConv", "MultiChannelConv")
    for rank, delta in ((1, 2), (2, (2, 1)), (2, 0))
    for mode in ("zeros", "reflect")
]


@pytest.mark.parametrize(
    "name, rank, delta, mode", LOCAL, ids=[f"{n}-{r}d-delta{d}-{m}".replace(" ", "") for n, r, d, m in LOCAL]
)
def test_output_depends_on_exactly_the_window(name, rank, delta, mode):
    """A pixel outside the (2Δ+1) window changes nothing, one inside does.

    The perturbation form of "zero gradient outside the window, non-zero
    inside"; reflect padding mirrors pixels of the window, so stays local.
    """
    layer, x = _built(name, rank, helpers.seed_of(name, rank, delta, mode), delta=delta, padding_mode=mode)
    deltas = (delta,) * rank if isinstance(delta, int) else delta
    depends = helpers.dependence(layer, x)  # (*in_spatial, *out_spatial)
    np.testing.assert_array_equal(depends, _window_mask(SPATIAL[rank], deltas))


def test_circular_padding_connects_opposite_borders():
    """On the torus the window wraps: locality holds modulo n."""
    layer, x = _built("MultiChannelConv", 1, 7, delta=1, padding_mode="circular")
    depends = helpers.dependence(layer, x)  # (L, L')
    n = SPATIAL[1][0]
    assert depends[n - 1, 0] and depends[0, n - 1]
    distance = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    np.testing.assert_array_equal(depends, np.minimum(distance, n - distance) <= 1)


@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_shared_conv_keeps_channels_apart_and_multi_channel_conv_mixes_them(rank):
    channels = 3
    shared, x = _built("SharedConv", rank, 11, channels=channels, delta=1)
    depends = helpers.dependence(shared, x, per_channel=True)  # (*in, C_in, *out, C_out)
    by_channel = depends.reshape(-1, channels, *depends.shape[rank + 1 :]).any(axis=0)
    by_channel = by_channel.reshape(channels, -1, channels).any(axis=1)  # (C_in, C_out)
    np.testing.assert_array_equal(by_channel, np.eye(channels, dtype=bool))

    mixing, x = _built("MultiChannelConv", rank, 12, channels=channels, delta=1)
    depends = helpers.dependence(mixing, x, per_channel=True)
    by_channel = depends.reshape(-1, channels, *depends.shape[rank + 1 :]).any(axis=0)
    by_channel = by_channel.reshape(channels, -1, FILTERS).any(axis=1)  # (C_in, F)
    assert by_channel.all()


@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_fully_connected_output_depends_on_every_input_pixel(rank):
    layer, x = _built("FullyConnected", rank, 21)
    depends = helpers.dependence(layer, x)
    assert depends.shape == SPATIAL[rank] * 2
    assert depends.all()


@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_whole_image_shared_conv_is_invariant_but_not_local(rank):
    """delta=None: side 2n-1, so even a corner output sees the opposite corner."""
    layer, x = _built("SharedConv", rank, 31)
    assert layer.kernel.shape[:rank] == reference.whole_input_window(SPATIAL[rank])
    depends = helpers.dependence(layer, x)
    assert depends.all()


# ------------------------------------------------------------ exercise 1
@pytest.mark.parametrize("rank", (1, 2), ids=("1d", "2d"))
def test_delta_zero_is_a_dense_layer_on_each_pixel(rank):
    layer, x = _built("MultiChannelConv", rank, 41, channels=3, delta=0)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (*(1,) * rank, 3, FILTERS)
    dense = keras.layers.Dense(FILTERS, kernel_initializer="zeros")
    dense.build((None, 3))
    dense.set_weights([kernel.reshape(3, FILTERS), bias])
    _close(helpers.run(layer, x), helpers.run(dense, x))


# ------------------------------------------------------------ exercise 6
def _apply(kernel, x, convolution, padding="same"):
    """The layer with `kernel` (one channel) on the 1- or 2-D array x."""
    rank = kernel.ndim
    cls = (cl.MultiChannelConv1D, cl.MultiChannelConv)[rank - 1]
    layer = cls(
        filters=1,
        kernel_size=kernel.shape,
        padding=padding,
        convolution=convolution,
        use_bias=False,
        **helpers.FAST_INIT,
    )
    inputs = x[None, ..., None].astype(np.float32)  # (1, *spatial, 1)
    layer.build(inputs.shape)
    layer.set_weights([kernel[..., None, None].astype(np.float32)])
    return helpers.run(layer, inputs)[0, ..., 0]


ODD_KERNELS = {1: ((3,), (5,)), 2: ((3, 3), (5, 3))}


@pytest.mark.parametrize(
    "rank, kernel_shape", [(r, k) for r in (1, 2) for k in ODD_KERNELS[r]], ids=lambda v: str(v).replace(" ", "")
)
def test_convolution_true_is_scipy_convolve_and_false_is_correlate(rank, kernel_shape):
    rng = np.random.default_rng(helpers.seed_of(rank, kernel_shape))
    x = rng.uniform(-1, 1, SPATIAL[rank])
    kernel = rng.uniform(-1, 1, kernel_shape)
    convolve, correlate = (
        (scipy.signal.convolve2d, scipy.signal.correlate2d)
        if rank == 2
        else (scipy.signal.convolve, scipy.signal.correlate)
    )
    _close(_apply(kernel, x, convolution=True), convolve(x, kernel, mode="same"))
    _close(_apply(kernel, x, convolution=False), correlate(x, kernel, mode="same"))
    # Not the same thing: the kernels are not symmetric.
    assert np.abs(_apply(kernel, x, convolution=True) - _apply(kernel, x, convolution=False)).max() > 1e-2


def _full(kernel, x):
    """Full convolution: valid padding on x zero-padded by kernel_size-1."""
    padded = np.pad(x, [(k - 1, k - 1) for k in kernel.shape])
    return _apply(kernel, padded, convolution=True, padding="valid")


@pytest.mark.parametrize(
    "f_shape, g_shape",
    [((5, 5), (3, 3)), ((5, 4), (2, 3)), ((11,), (4,))],
    ids=("5x5*3x3", "5x4*2x3", "11*4"),
)
def test_full_convolution_matches_scipy_and_commutes(f_shape, g_shape):
    rng = np.random.default_rng(helpers.seed_of(f_shape, g_shape))
    f = rng.uniform(-1, 1, f_shape)
    g = rng.uniform(-1, 1, g_shape)
    f_star_g = _full(g, f)  # input f, kernel g
    g_star_f = _full(f, g)  # input g, kernel f
    expected = scipy.signal.convolve(f, g, mode="full")
    assert f_star_g.shape == g_star_f.shape == tuple(n + m - 1 for n, m in zip(f_shape, g_shape))
    _close(f_star_g, expected)
    _close(g_star_f, expected)
    _close(f_star_g, g_star_f)

"""Every constrained layer against the readable numpy reference (`reference.py`).

Each case builds a layer, assigns seeded random weights (a non-zero bias
included), and compares its output on a tiny batch (2 × 7×6 images, so both
odd and even sides occur, or 2 × length-11 sequences) with the reference
computed from the §7.1 equations. Tolerance: atol = rtol = 1e-5 (float32 on
data of unit scale; see `helpers.ATOL`).

The configurations cover channels 1 and 3, Δ = 0, 1, 2 and an explicit
even/asymmetric kernel_size, strides 1 and 2, "same" with every padding mode
and "valid", cross-correlation and true convolution, with and without bias,
1D and 2D, plus SharedConv's whole-input window (delta=None). Rather than
their full product, the values are combined by a seeded pairwise design
(every pair of values occurs for every layer; `test_cases_cover_pairs`),
which keeps the suite small enough for JAX, where every new shape costs a
compilation.

`test_even_kernel_convolution_matches_scipy` checks `convolution=True` with
even kernels against a second, independent reference, `scipy.signal.convolve`,
with the alignment of Keras's "same" padding written out as an equation.
"""

import itertools

import keras
import numpy as np
import pytest
from scipy import signal

import constrained_layers as cl
from tests.layers import helpers, reference

BATCH = 2
SPATIAL = {1: (11,), 2: (7, 6)}
FILTERS = 2
PADDING_MODES = ("zeros", "reflect", "symmetric", "circular")
WINDOWS = {
    1: ({"delta": 0}, {"delta": 1}, {"delta": 2}, {"kernel_size": 4}),
    2: ({"delta": 0}, {"delta": 1}, {"delta": 2}, {"kernel_size": (2, 3)}),
}
BOUNDARIES = (*(("same", mode) for mode in PADDING_MODES), ("valid", "zeros"), ("valid", "reflect"))
STRIDES = (1, 2)
# (strides, channels, convolution, use_bias): spread over the cases by a
# seeded pairwise design, see the module docstring.
FLAGS = tuple(itertools.product(STRIDES, (1, 3), (False, True), (True, False)))

LAYERS = {
    ("LocallyConnected", 1): cl.LocallyConnected1D,
    ("LocallyConnected", 2): cl.LocallyConnected,
    ("SharedConv", 1): cl.SharedConv1D,
    ("SharedConv", 2): cl.SharedConv,
    ("MultiChannelConv", 1): cl.MultiChannelConv1D,
    ("MultiChannelConv", 2): cl.MultiChannelConv,
}
FULLY_CONNECTED = {1: cl.FullyConnected1D, 2: cl.FullyConnected2D}


def _window_id(window):
    if not window:
        return "whole"
    ((name, value),) = window.items()
    text = "x".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return f"{'delta' if name == 'delta' else 'ks'}{text}"


def _pairwise_flags(rows, rng):
    """One (strides, channels, convolution, use_bias) per row, covering pairs.

    Greedy pairwise design: each row takes the flag combination that covers
    the most pairs (with the row's window and boundary, and among the flags)
    not seen yet, ties broken by the seeded `rng`. `test_cases_cover_pairs`
    checks that every pair of values occurs.
    """
    seen = set()
    chosen = []
    for row in rows:
        best, best_gain = None, -1
        for index in rng.permutation(len(FLAGS)):
            values = (*row, *FLAGS[index])
            gain = len(_pairs(values) - seen)
            if gain > best_gain:
                best, best_gain = FLAGS[index], gain
        seen |= _pairs((*row, *best))
        chosen.append(best)
    return chosen


def _pairs(values):
    return {(i, repr(a), j, repr(b)) for (i, a), (j, b) in itertools.combinations(enumerate(values), 2)}


def _windowed_cases():
    cases = []
    rng = np.random.default_rng(0)
    for (family, rank), cls in LAYERS.items():
        rows = list(itertools.product(range(len(WINDOWS[rank])), range(len(BOUNDARIES))))
        configs = [(WINDOWS[rank][w], BOUNDARIES[b], *flags) for (w, b), flags in zip(rows, _pairwise_flags(rows, rng))]
        if family == "SharedConv":  # the whole-input window: "same" only
            for (mode, strides), flags in zip(
                itertools.product(PADDING_MODES, STRIDES), itertools.cycle(rng.permutation(FLAGS))
            ):
                configs.append(({}, ("same", mode), strides, *flags[1:]))
        for window, (padding, mode), strides, channels, convolution, use_bias in configs:
            case = dict(
                family=family,
                rank=rank,
                cls=cls,
                window=window,
                strides=strides,
                padding=padding,
                padding_mode=mode,
                channels=int(channels),
                convolution=bool(convolution),
                use_bias=bool(use_bias),
                seed=len(cases),
            )
            case_id = "-".join(
                (
                    f"{cls.__name__}",
                    f"c{channels}",
                    _window_id(window),
                    f"s{strides}",
                    padding,
                    mode,
                    "conv" if convolution else "corr",
                    "bias" if use_bias else "nobias",
                )
            )
            cases.append(pytest.param(case, id=case_id))
    return cases


def _expected_weight_shapes(case, window, spatial):
    channels = case["channels"]
    if case["family"] == "SharedConv":
        return [(*window, channels, 1)] + [(channels,)] * case["use_bias"]
    if case["family"] == "MultiChannelConv":
        return [(*window, channels, FILTERS)] + [(FILTERS,)] * case["use_bias"]
    out = tuple(
        reference.output_length(n, k, s, case["padding"]) for n, k, s in zip(spatial, window, (case["strides"],) * 2)
    )
    kernel = (int(np.prod(out)), int(np.prod(window)) * channels, FILTERS)
    return [kernel] + [(*out, FILTERS)] * case["use_bias"]


@pytest.mark.parametrize("case", _windowed_cases())
def test_windowed_layer_matches_reference(case):
    rng = np.random.default_rng(case["seed"])
    rank, spatial = case["rank"], SPATIAL[case["rank"]]
    x = helpers.random_input(rng, (BATCH, *spatial, case["channels"]))
    boundary = dict(
        strides=case["strides"],
        padding=case["padding"],
        padding_mode=case["padding_mode"],
        convolution=case["convolution"],
    )
    filters = {} if case["family"] == "SharedConv" else {"filters": FILTERS}
    layer = case["cls"](**filters, **case["window"], use_bias=case["use_bias"], **boundary, **helpers.FAST_INIT)
    weights = helpers.assign_random_weights(layer, x.shape, rng)
    window = reference.window_from(**case["window"], rank=rank, spatial=spatial)
    assert [w.shape for w in weights] == _expected_weight_shapes(case, window, spatial)
    kernel, bias = weights[0], (weights[1] if case["use_bias"] else None)

    if case["family"] == "LocallyConnected":
        expected = reference.locally_connected(x, kernel, bias, kernel_size=window, **boundary)
    elif case["family"] == "SharedConv":
        expected = reference.shared_conv(x, kernel, bias, **boundary)
    else:
        expected = reference.multi_channel_conv(x, kernel, bias, **boundary)

    actual = helpers.run(layer, x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def _fully_connected_cases():
    cases = []
    for rank, output_size, channels, use_bias in itertools.product(
        (1, 2), (None, "explicit"), (1, 3), (True, False)
    ):
        size = None if output_size is None else {1: 4, 2: (3, 5)}[rank]
        case = dict(rank=rank, output_size=size, channels=channels, use_bias=use_bias, seed=len(cases))
        size_id = "same-size" if size is None else "out" + "x".join(map(str, np.atleast_1d(size)))
        case_id = f"{FULLY_CONNECTED[rank].__name__}-c{channels}-{size_id}-{'bias' if use_bias else 'nobias'}"
        cases.append(pytest.param(case, id=case_id))
    return cases


@pytest.mark.parametrize("case", _fully_connected_cases())
def test_fully_connected_matches_reference(case):
    rng = np.random.default_rng(100 + case["seed"])
    rank, spatial = case["rank"], SPATIAL[case["rank"]]
    x = helpers.random_input(rng, (BATCH, *spatial, case["channels"]))
    layer = FULLY_CONNECTED[rank](
        filters=FILTERS, output_size=case["output_size"], use_bias=case["use_bias"], **helpers.FAST_INIT
    )
    weights = helpers.assign_random_weights(layer, x.shape, rng)
    out = spatial if case["output_size"] is None else tuple(np.atleast_1d(case["output_size"]))
    expected_shapes = [(*spatial, case["channels"], *out, FILTERS)] + [(*out, FILTERS)] * case["use_bias"]
    assert [w.shape for w in weights] == expected_shapes
    bias = weights[1] if case["use_bias"] else None

    expected = reference.fully_connected(x, weights[0], bias)
    actual = helpers.run(layer, x)
    assert actual.shape == (BATCH, *out, FILTERS)
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)


def test_cases_cover_pairs():
    """Per family and rank, every pair of configuration values occurs in some case."""
    factors = ("window", "boundary", "strides", "channels", "convolution", "use_bias")
    by_layer = {}
    for param in _windowed_cases():
        case = param.values[0]
        if not case["window"]:
            continue  # the whole-input window is an extra, not part of the design
        values = (
            _window_id(case["window"]),
            (case["padding"], case["padding_mode"]),
            case["strides"],
            case["channels"],
            case["convolution"],
            case["use_bias"],
        )
        by_layer.setdefault(case["cls"].__name__, set()).update(_pairs(values))
    levels = (len(WINDOWS[2]), len(BOUNDARIES), 2, 2, 2, 2)
    expected = sum(levels[i] * levels[j] for i, j in itertools.combinations(range(len(factors)), 2))
    assert sorted(by_layer) == sorted(cls.__name__ for cls in LAYERS.values())
    for name, pairs in by_layer.items():
        assert len(pairs) == expected, name


def test_reference_padding_rule():
    """The reference's "same" amounts: Keras's rule, extra pixel at the end."""
    assert reference.padding_amounts(7, 3, 1, "same") == (1, 1)
    assert reference.padding_amounts(6, 2, 1, "same") == (0, 1)
    assert reference.padding_amounts(7, 4, 2, "same") == (1, 2)  # out 4: (4-1)·2 + 4 - 7 = 3
    assert reference.padding_amounts(6, 3, 2, "same") == (0, 1)  # out 3: (3-1)·2 + 3 - 6 = 1
    assert reference.padding_amounts(6, 1, 2, "same") == (0, 0)
    assert reference.padding_amounts(7, 13, 1, "same") == (6, 6)  # whole-image window
    assert reference.padding_amounts(9, 5, 1, "valid") == (0, 0)
    assert reference.output_length(7, 3, 2, "same") == 4
    assert reference.output_length(7, 3, 2, "valid") == 3


def test_reference_by_hand():
    """The reference itself on a case small enough to work out by hand."""
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)  # (B, L, C)
    kernel = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)  # (k, C, F)
    correlation = reference.multi_channel_conv(x, kernel, np.array([0.5]))[0, :, 0]
    np.testing.assert_array_equal(
        correlation, [0 + 10 + 200 + 0.5, 1 + 20 + 300 + 0.5, 2 + 30 + 400 + 0.5, 3 + 40 + 0 + 0.5]
    )
    convolution = reference.multi_channel_conv(x, kernel, convolution=True)[0, :, 0]
    np.testing.assert_array_equal(convolution, [0 + 10 + 2, 100 + 20 + 3, 200 + 30 + 4, 300 + 40 + 0])
    circular = reference.shared_conv(x, kernel, padding_mode="circular")[0, :, 0]
    np.testing.assert_array_equal(circular, [4 + 10 + 200, 1 + 20 + 300, 2 + 30 + 400, 3 + 40 + 100])
    reflect = reference.shared_conv(x, kernel, padding_mode="reflect")[0, :, 0]
    np.testing.assert_array_equal(reflect[[0, -1]], [2 + 10 + 200, 3 + 40 + 300])
    symmetric = reference.shared_conv(x, kernel, padding_mode="symmetric")[0, :, 0]
    np.testing.assert_array_equal(symmetric[[0, -1]], [1 + 10 + 200, 3 + 40 + 400])


@pytest.mark.parametrize(
    "cls, spatial_sizes",
    [(cl.SharedConv, ((5, 5), (6, 4), (7, 6), (4, 7))), (cl.MultiChannelConv1D, ((5,), (8,), (11,), (6,)))],
    ids=("SharedConv", "MultiChannelConv1D"),
)
def test_circular_padding_on_inputs_of_varying_size(cls, spatial_sizes):
    """A model of unknown spatial size predicts on images of several sizes.

    After a few sizes, TensorFlow's predict function retraces with
    `reduce_retracing` and the spatial axes become None, so circular padding
    must not need the static size (`_boundary.pad` computing `n - before`
    with n = None raises a TypeError there).
    """
    rank = len(spatial_sizes[0])
    rng = np.random.default_rng(7)
    filters = {} if cls is cl.SharedConv else {"filters": FILTERS}
    layer = cls(delta=1, padding_mode="circular", **filters, **helpers.FAST_INIT)
    inputs = keras.Input((*(None,) * rank, 3))
    model = keras.Model(inputs, layer(inputs))
    kernel, bias = helpers.assign_random_weights(layer, (None, *(None,) * rank, 3), rng)
    reference_fn = reference.shared_conv if cls is cl.SharedConv else reference.multi_channel_conv
    for spatial in spatial_sizes:
        x = helpers.random_input(rng, (1, *spatial, 3))
        expected = reference_fn(x, kernel, bias, padding_mode="circular")
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=helpers.ATOL, rtol=helpers.RTOL)


# ------------------------------------------- true convolution against scipy
EVEN_KERNELS = {1: 4, 2: (2, 4)}
CONVOLUTION_FAMILIES = {
    ("SharedConv", 1): cl.SharedConv1D,
    ("SharedConv", 2): cl.SharedConv,
    ("MultiChannelConv", 1): cl.MultiChannelConv1D,
    ("MultiChannelConv", 2): cl.MultiChannelConv,
    ("LocallyConnected", 1): cl.LocallyConnected1D,
    ("LocallyConnected", 2): cl.LocallyConnected,
}


def _scipy_full_convolution(x, kernel, depthwise):
    """full[b, n, d] = Σ_c Σ_m V[m, c, d] · X[b, n - m, c], by `scipy.signal.convolve`.

    x: (B, *S, C); kernel: (*K, C, M). Returns (B, *(S + K - 1), C) when
    `depthwise` (channel c convolved with V[..., c, 0]) or (B, *(S + K - 1), M).
    """
    def convolve(a, v):
        return signal.convolve(a, v, mode="full", method="direct")

    channels, outputs = kernel.shape[-2:]
    x = x.astype(np.float64)
    kernel = kernel.astype(np.float64)
    result = []
    for image in x:  # (*S, C)
        if depthwise:
            maps = [convolve(image[..., c], kernel[..., c, 0]) for c in range(channels)]
        else:
            maps = [
                sum(convolve(image[..., c], kernel[..., c, d]) for c in range(channels))
                for d in range(outputs)
            ]
        result.append(np.stack(maps, axis=-1))
    return np.stack(result)


@pytest.mark.parametrize("padding", ("same", "valid"))
@pytest.mark.parametrize(
    "family, rank", list(CONVOLUTION_FAMILIES), ids=[f"{f}-{r}d" for f, r in CONVOLUTION_FAMILIES]
)
def test_even_kernel_convolution_matches_scipy(family, rank, padding):
    """convolution=True with an even kernel is scipy's convolution, aligned as Keras pads.

    With full[n] = Σ_m V[m] · X[n - m] (`scipy.signal.convolve(X, V, "full")`,
    n = 0 .. N + k - 2) and stride 1, along each axis of k taps:

        "same":   H[i] = full[i + ⌊k/2⌋],  i = 0 .. N - 1
                       = Σ_m V[m] · X[i + ⌊k/2⌋ - m]
        "valid":  H[i] = full[i + k - 1],  i = 0 .. N - k   (scipy's mode="valid")

    and in 2D H[i, j] = full[i + ⌊kh/2⌋, j + ⌊kw/2⌋] ("same"). Keras pads
    ⌊(k-1)/2⌋ before and ⌈(k-1)/2⌉ after, so for an even k the extra tap
    reads ahead: k = 4 reads X[i+2], X[i+1], X[i], X[i-1]. scipy's own
    mode="same" keeps full[i + ⌊(k-1)/2⌋], one pixel behind for even k (and
    equal for odd k): the last assertion checks that the two do differ.
    Kernels: 4 taps in 1D, 2×4 in 2D. LocallyConnected gets the same kernel
    at every position, which makes it a convolution that scipy computes.
    """
    cls = CONVOLUTION_FAMILIES[family, rank]
    rng = np.random.default_rng(helpers.seed_of(family, rank, padding))
    spatial = {1: (9,), 2: (7, 6)}[rank]
    x = helpers.random_input(rng, (BATCH, *spatial, 2))  # (B, *S, C)
    filters = {} if family == "SharedConv" else {"filters": 3}
    window = reference.window_from(kernel_size=EVEN_KERNELS[rank], rank=rank)
    layer = cls(
        **filters, kernel_size=EVEN_KERNELS[rank], padding=padding, convolution=True, use_bias=False,
        **helpers.FAST_INIT,
    )
    layer.build(x.shape)
    depthwise = family == "SharedConv"
    kernel = rng.uniform(-1.0, 1.0, (*window, 2, 1 if depthwise else 3)).astype(np.float32)  # V: (*K, C, M)
    if family == "LocallyConnected":
        positions = layer.kernel.shape[0]
        # The same V at every position, flattened in (row, column, channel) order.
        layer.set_weights([np.broadcast_to(kernel.reshape(1, -1, 3), (positions, kernel[..., 0].size, 3)).copy()])
    else:
        layer.set_weights([kernel])

    full = _scipy_full_convolution(x, kernel, depthwise)  # (B, *(S + K - 1), M)
    if padding == "same":
        start = [k // 2 for k in window]
        sizes = spatial
    else:
        start = [k - 1 for k in window]
        sizes = [n - k + 1 for n, k in zip(spatial, window)]
    expected = full[(slice(None), *(slice(a, a + n) for a, n in zip(start, sizes)))]

    actual = helpers.run(layer, x)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL)
    if padding == "same":  # scipy's "same" centres the other way for even kernels
        scipy_same = full[(slice(None), *(slice((k - 1) // 2, (k - 1) // 2 + n) for k, n in zip(window, spatial)))]
        assert not np.allclose(actual, scipy_same, atol=1e-3)

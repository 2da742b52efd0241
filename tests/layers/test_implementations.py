"""Every fast path equals the slow one: FFT convolution and the locally connected kernel.

- `SharedConv` / `MultiChannelConv` (1D and 2D) with implementation="fft" and
  "auto" give the output of implementation="direct" and of the numpy
  reference (`reference.py`), and the same gradients for the input and the
  kernel, across windows (Δ, odd and even kernel_size, SharedConv's
  whole-input kernel), strides, "same" with every padding mode, "valid", and
  cross-correlation or true convolution.
- `LocallyConnected` / `LocallyConnected1D`: the fast path (`_apply_kernel`,
  a gather-based kernel with its own gradient) gives the reference's output
  and the gradients that autodiff finds for the readable path
  (`_apply_kernel_patches`), including strides larger than the window
  (pixels that no output reads get a zero gradient).
- Which path ran is observed, not asked of the layer: `_path_taken` spies
  on `keras.ops` (each spy calls the real op) while the layer's call is
  traced, and sees either FFTs (`rfft`, `fft`, ...) or a convolution op
  (`conv`, `depthwise_conv`). "auto" takes the FFT exactly from
  `_fft.MIN_FFT_TAPS` taps, in 1D and 2D, and then still equals the
  reference.
- Under "mixed_float16" and "mixed_bfloat16" the FFT path (1D and 2D, both
  families) equals the float32 direct path within the mixed-precision
  tolerance of `layer_test_case.mixed_precision_atol`.
- `implementation` is validated, defaults to "auto", and survives
  `get_config`/`from_config`.

The configurations form a Latin-square design (each window meets the
boundaries in turn, with strides and convolution varied along), not the full
product: on JAX every new shape compiles, and this file must stay well
under a minute per backend. Tolerance: `helpers.ATOL`/`RTOL` (float32).
"""

import contextlib
import itertools
import math
import re
from unittest import mock

import keras
import numpy as np
import pytest

import constrained_layers as cl
from constrained_layers import _fft
from tests.layers import helpers, layer_test_case, reference

BATCH = 2
SPATIAL = {1: (9,), 2: (7, 6)}
BOUNDARIES = (("same", "zeros"), ("same", "reflect"), ("same", "symmetric"), ("same", "circular"), ("valid", "zeros"))
WINDOWS = {
    1: ({"delta": 0}, {"delta": 1}, {"kernel_size": 2}, {"kernel_size": 4}),
    2: ({"delta": 0}, {"delta": 1}, {"kernel_size": 2}, {"kernel_size": (2, 3)}),
}
WHOLE = {}  # SharedConv's whole-input window (delta=None, kernel_size=None)
CONVS = {
    ("SharedConv", 1): cl.SharedConv1D,
    ("SharedConv", 2): cl.SharedConv,
    ("MultiChannelConv", 1): cl.MultiChannelConv1D,
    ("MultiChannelConv", 2): cl.MultiChannelConv,
}
LOCALLY_CONNECTED = {1: cl.LocallyConnected1D, 2: cl.LocallyConnected}


def _window_id(window):
    if not window:
        return "whole"
    ((name, value),) = window.items()
    text = "x".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return f"{'delta' if name == 'delta' else 'ks'}{text}"


def _latin_square(windows, boundaries, strides, repeats=1):
    """Rows (window, boundary, strides, convolution): each value of the longer
    of `windows` and `boundaries` appears `repeats` times, each time beside a
    value of the shorter list shifted by one more; strides and convolution
    cycle along the rows."""
    long_first = len(boundaries) >= len(windows)
    longer, shorter = (boundaries, windows) if long_first else (windows, boundaries)
    for i in range(repeats * len(longer)):
        a, b = longer[i % len(longer)], shorter[(i + i // len(longer)) % len(shorter)]
        window, boundary = (b, a) if long_first else (a, b)
        yield window, boundary, strides[i % len(strides)], bool((i // 2) % 2)


def _conv_cases():
    for (family, rank), layer_cls in CONVS.items():
        rows = list(_latin_square(WINDOWS[rank], BOUNDARIES, (1, 2)))
        if family == "SharedConv":
            # The whole-input window with every "same" boundary ("valid" would
            # leave no output): the FFT's folded-kernel and padded paths.
            rows += [(WHOLE, boundary, 1 + i % 2, bool(i // 2)) for i, boundary in enumerate(BOUNDARIES[:4])]
        for window, (padding, mode), strides, convolution in rows:
            case_id = f"{family}-{rank}d-{_window_id(window)}-{padding}-{mode}-s{strides}" + (
                "-conv" if convolution else ""
            )
            yield pytest.param(layer_cls, window, padding, mode, strides, convolution, id=case_id)


def _lc_cases():
    for rank, layer_cls in LOCALLY_CONNECTED.items():
        for window, (padding, mode), strides, convolution in _latin_square(WINDOWS[rank], BOUNDARIES, (1, 2, 3)):
            case_id = f"{rank}d-{_window_id(window)}-{padding}-{mode}-s{strides}" + ("-conv" if convolution else "")
            yield pytest.param(layer_cls, window, padding, mode, strides, convolution, id=case_id)


# ------------------------------------------------------- which path ran
#: The keras.ops that only the FFT path calls, and those only the direct path calls.
FFT_OPS = ("fft", "fft2", "ifft2", "rfft", "irfft")
CONV_OPS = ("conv", "depthwise_conv")


def _trace(layer, input_shape):
    """Runs `layer`'s Python code once on a symbolic float32 input: nothing is computed."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.function(lambda t: layer(t)).get_concrete_function(tf.TensorSpec(input_shape, tf.float32))
    elif backend == "jax":
        import jax

        jax.eval_shape(lambda t: layer(t), jax.ShapeDtypeStruct(input_shape, "float32"))
    elif backend == "torch":
        import torch

        # Eager only: run the Python code once on a "meta" tensor (shapes, no data).
        with torch.device("meta"):
            layer(torch.empty(input_shape, dtype=torch.float32))
    else:
        pytest.skip(f"tracing not wired for backend {backend}")


def _forward(layer, x):
    """The layer's output on x as numpy; on JAX in one jitted function (one
    compilation instead of one per op, dtype and shape)."""
    if keras.backend.backend() == "jax":
        import jax

        return np.asarray(jax.jit(lambda t: layer(t))(x))
    return keras.ops.convert_to_numpy(layer(x))


def _path_taken(layer, input_shape):
    """"fft" or "direct": which ops the (built) layer's call reaches, observed.

    Every op of FFT_OPS and CONV_OPS is replaced, for the duration of one
    trace, by a spy that calls the real op (`mock.patch.object(keras.ops,
    name, wraps=...)`): the layers look the ops up on `keras.ops` when they
    run. Exactly one of the two groups must have been called.
    """
    names = [name for name in FFT_OPS + CONV_OPS if hasattr(keras.ops, name)]
    with contextlib.ExitStack() as stack:
        spies = {
            name: stack.enter_context(mock.patch.object(keras.ops, name, wraps=getattr(keras.ops, name)))
            for name in names
        }
        _trace(layer, input_shape)
    used = sorted(name for name, spy in spies.items() if spy.called)
    transforms = [name for name in used if name in FFT_OPS]
    convolutions = [name for name in used if name in CONV_OPS]
    assert bool(transforms) != bool(convolutions), (
        f"{layer.name} called {used}: expected FFTs or a convolution op, not both or neither"
    )
    return "fft" if transforms else "direct"


# ---------------------------------------------------------------- gradients
def _outputs_and_gradients(layers, x, kernel, upstream):
    """[(y, dL/dx, dL/dkernel) for each layer], L = Σ y · upstream, same kernel.

    `stateless_call` substitutes `kernel` for each layer's kernel, so the
    gradient is taken with respect to a plain tensor on every backend. On
    JAX the layers run in one jitted function: one compilation per case
    instead of one per op and shape.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        results = []
        for layer in layers:
            xs, ks = tf.constant(x), tf.constant(kernel)
            with tf.GradientTape() as tape:
                tape.watch([xs, ks])
                y = layer.stateless_call([ks], [], xs)[0]
            dx, dk = tape.gradient(y, [xs, ks], output_gradients=tf.constant(upstream))
            results.append((np.asarray(y), np.asarray(dx), np.asarray(dk)))
        return results
    if backend == "jax":
        import jax

        def run_all(xs, ks, up):
            results = []
            for layer in layers:
                y, vjp = jax.vjp(lambda a, b, layer=layer: layer.stateless_call([b], [], a)[0], xs, ks)
                results.append((y, *vjp(up)))
            return results

        return [tuple(np.asarray(v) for v in r) for r in jax.jit(run_all)(x, kernel, upstream)]
    if backend == "torch":
        import torch

        results = []
        for layer in layers:
            xs, ks = (torch.tensor(a, requires_grad=True) for a in (x, kernel))
            y = layer.stateless_call([ks], [], xs)[0]
            dx, dk = torch.autograd.grad(y, [xs, ks], grad_outputs=torch.tensor(upstream))
            results.append(tuple(t.detach().numpy() for t in (y, dx, dk)))
        return results
    pytest.skip(f"gradients not wired for backend {backend}")


def _close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, atol=helpers.ATOL, rtol=helpers.RTOL, err_msg=what)


def _build(layer_cls, args, x_shape, **kwargs):
    layer = layer_cls(*args, use_bias=False, **helpers.FAST_INIT, **kwargs)
    layer.build(x_shape)
    return layer


# ----------------------------------------------------------- conv: fft/auto
@pytest.mark.parametrize("layer_cls, window, padding, mode, strides, convolution", _conv_cases())
def test_fft_and_auto_equal_direct_and_reference(layer_cls, window, padding, mode, strides, convolution):
    rank = 1 if layer_cls.__name__.endswith("1D") else 2
    shared = issubclass(layer_cls, cl.shared_conv.BaseSharedConv)
    args = () if shared else (2,)
    kwargs = dict(window, strides=strides, padding=padding, padding_mode=mode, convolution=convolution)
    rng = np.random.default_rng(helpers.seed_of(layer_cls.__name__, window, padding, mode, strides, convolution))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], 3))
    layers = {impl: _build(layer_cls, args, x.shape, implementation=impl, **kwargs) for impl in _fft.IMPLEMENTATIONS}
    (kernel,) = helpers.assign_random_weights(layers["direct"], x.shape, rng)
    reference_fn = reference.shared_conv if shared else reference.multi_channel_conv
    expected = reference_fn(x, kernel, None, strides=strides, padding=padding, padding_mode=mode, convolution=convolution)
    upstream = helpers.random_input(rng, expected.shape)

    # "auto" runs one of the other two, the FFT from MIN_FFT_TAPS taps on
    # (observed). Only when that is the FFT is it a different computation
    # from "direct" (and worth a compilation on JAX).
    auto = _path_taken(layers["auto"], x.shape)
    taps = math.prod(kernel.shape[:rank])
    assert auto == ("fft" if taps >= _fft.MIN_FFT_TAPS[shared, rank] else "direct"), (taps, auto)
    checked = ["direct", "fft"] + (["auto"] if auto == "fft" else [])
    results = dict(zip(checked, _outputs_and_gradients([layers[i] for i in checked], x, kernel, upstream)))
    y, dx, dk = results["direct"]
    _close(y, expected, "direct vs reference")
    for impl in checked[1:]:
        iy, idx, idk = results[impl]
        _close(iy, expected, f"{impl} vs reference")
        _close(idx, dx, f"{impl}: gradient for the input")
        _close(idk, dk, f"{impl}: gradient for the kernel")


def test_whole_image_kernel_runs_the_fft_under_auto():
    """delta=None on an image: "auto" takes the FFT path; small windows do not."""
    assert _fft.choose("auto", (28, 28), (55, 55), depthwise=True) == "fft"
    assert _fft.choose("auto", (28, 28), (5, 5), depthwise=True) == "direct"
    assert _fft.choose("auto", (28, 28), (5, 5), depthwise=False) == "direct"
    assert _fft.choose("auto", (None, None), (55, 55), depthwise=True) == "direct"
    assert _fft.choose("direct", (64, 64), (127, 127), depthwise=True) == "direct"
    assert _fft.choose("fft", (8, 8), (1, 1), depthwise=False) == "fft"
    # "auto" switches exactly at the measured crossover.
    for (depthwise, rank), taps in _fft.MIN_FFT_TAPS.items():
        side = round(taps ** (1 / rank))
        assert side**rank == taps
        below = (side - 1,) * rank
        assert _fft.choose("auto", (64,) * rank, (side,) * rank, depthwise) == "fft"
        assert _fft.choose("auto", (64,) * rank, below, depthwise) == "direct"


def _window_with_taps(taps):
    """The squarest 2D window (a, b), a <= b, of exactly `taps` taps: 169 -> (13, 13), 168 -> (12, 14)."""
    a = max(d for d in range(1, math.isqrt(taps) + 1) if taps % d == 0)
    return (a, taps // a)


@pytest.mark.parametrize("at_threshold", (True, False), ids=("at-threshold", "one-tap-below"))
@pytest.mark.parametrize("layer_cls", (cl.SharedConv, cl.MultiChannelConv), ids=lambda c: c.__name__)
def test_auto_runs_the_fft_from_the_threshold_in_2d(layer_cls, at_threshold):
    """A 2D window of MIN_FFT_TAPS taps runs the FFT under "auto", one of a
    tap fewer the direct op (observed by `_path_taken`), and both give the
    numpy reference's output."""
    shared = layer_cls is cl.SharedConv
    threshold = _fft.MIN_FFT_TAPS[shared, 2]  # 13·13 for SharedConv, 15·15 for MultiChannelConv
    window = _window_with_taps(threshold if at_threshold else threshold - 1)
    rng = np.random.default_rng(helpers.seed_of(layer_cls.__name__, window))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[2], 2))  # (B, 7, 6, C): the window is wider than the image
    filters = {} if shared else {"filters": 2}
    layer = layer_cls(**filters, kernel_size=window, implementation="auto", **helpers.FAST_INIT)
    kernel, bias = helpers.assign_random_weights(layer, x.shape, rng)
    assert _path_taken(layer, x.shape) == ("fft" if at_threshold else "direct")
    reference_fn = reference.shared_conv if shared else reference.multi_channel_conv
    _close(_forward(layer, x), reference_fn(x, kernel, bias), f"auto with a {window} window vs reference")


MIXED_FFT_CASES = [
    pytest.param(cl.SharedConv1D, {"delta": 3, "padding_mode": "reflect"}, id="SharedConv1D"),
    pytest.param(cl.SharedConv, {"kernel_size": (3, 4), "convolution": True}, id="SharedConv"),
    pytest.param(
        cl.MultiChannelConv1D, {"filters": 2, "delta": 2, "padding_mode": "circular"}, id="MultiChannelConv1D"
    ),
    pytest.param(
        cl.MultiChannelConv, {"filters": 2, "delta": 1, "strides": 2, "padding_mode": "symmetric"},
        id="MultiChannelConv",
    ),
]


@pytest.mark.parametrize("layer_cls, kwargs", MIXED_FFT_CASES)
def test_fft_under_mixed_precision_matches_float32_direct(layer_cls, kwargs):
    """implementation="fft" under "mixed_float16" and "mixed_bfloat16": the
    compute dtype out, and the float32 direct output (itself the numpy
    reference's, within float32 rounding) within `mixed_precision_atol`:
    `MIXED_PRECISION_ROUNDOFFS` unit roundoffs of the compute dtype times
    max|y| (the FFT itself runs in float32; the input, kernel, bias and
    output are rounded to the compute dtype)."""
    rank = 1 if layer_cls.__name__.endswith("1D") else 2
    shared = issubclass(layer_cls, cl.shared_conv.BaseSharedConv)
    rng = np.random.default_rng(helpers.seed_of(layer_cls.__name__, "mixed"))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], 3))
    direct = layer_cls(**kwargs, implementation="direct", **helpers.FAST_INIT)
    weights = helpers.assign_random_weights(direct, x.shape, rng)  # kernel, bias
    expected = _forward(direct, x)  # float32
    reference_fn = reference.shared_conv if shared else reference.multi_channel_conv
    boundary = {name: getattr(direct, name) for name in ("strides", "padding", "padding_mode", "convolution")}
    _close(expected, reference_fn(x, *weights, **boundary), "float32 direct vs reference")
    for policy in ("mixed_float16", "mixed_bfloat16"):
        layer = layer_cls(**kwargs, implementation="fft", dtype=policy, **helpers.FAST_INIT)
        layer.build(x.shape)
        layer.set_weights(weights)
        assert _path_taken(layer, x.shape) == "fft"
        y = _forward(layer, x)
        compute_dtype = keras.DTypePolicy(policy).compute_dtype
        assert keras.backend.standardize_dtype(y.dtype) == compute_dtype, (policy, y.dtype)
        y = y.astype(np.float32)
        atol = layer_test_case.mixed_precision_atol(policy, expected)
        np.testing.assert_allclose(
            y, expected, rtol=0, atol=atol, err_msg=f"fft under {policy} vs float32 direct (atol {atol:.3g})"
        )


# --------------------------------------------------- locally connected path
@pytest.mark.parametrize("layer_cls, window, padding, mode, strides, convolution", _lc_cases())
def test_locally_connected_fast_path_equals_reference_and_autodiff(
    layer_cls, window, padding, mode, strides, convolution
):
    rank = 1 if layer_cls is cl.LocallyConnected1D else 2
    kwargs = dict(window, strides=strides, padding=padding, padding_mode=mode, convolution=convolution)
    rng = np.random.default_rng(helpers.seed_of(rank, window, padding, mode, strides, convolution))
    x = helpers.random_input(rng, (BATCH, *SPATIAL[rank], 3))
    layer = _build(layer_cls, (2,), x.shape, **kwargs)
    (kernel,) = helpers.assign_random_weights(layer, x.shape, rng)
    expected = reference.locally_connected(
        x, kernel, None, kernel_size=layer.kernel_size, strides=strides, padding=padding,
        padding_mode=mode, convolution=convolution,
    )
    upstream = helpers.random_input(rng, expected.shape)

    readable = _build(layer_cls, (2,), x.shape, **kwargs)
    readable._apply_kernel = readable._apply_kernel_patches  # autodiff of the readable path
    (y, dx, dk), (ry, rdx, rdk) = _outputs_and_gradients([layer, readable], x, kernel, upstream)
    _close(y, expected, "fast path vs reference")
    _close(ry, expected, "readable path vs reference")
    _close(dx, rdx, "gradient for the input")
    _close(dk, rdk, "gradient for the kernel")


def test_locally_connected_gradient_skips_pixels_no_output_reads():
    """Stride 3 with a 1-wide window reads every third pixel: the others get 0."""
    x = helpers.random_input(np.random.default_rng(0), (BATCH, 9, 2))
    layer = _build(cl.LocallyConnected1D, (2,), x.shape, kernel_size=1, strides=3, padding="valid")
    (kernel,) = helpers.assign_random_weights(layer, x.shape, np.random.default_rng(1))
    upstream = np.ones((BATCH, 3, 2), "float32")
    ((_, dx, _),) = _outputs_and_gradients([layer], x, kernel, upstream)
    read = np.zeros(9, bool)
    read[::3] = True
    assert np.all(dx[:, ~read] == 0) and np.all(np.abs(dx[:, read]).sum(axis=-1) > 0)


# ------------------------------------------------------ argument and config
@pytest.mark.parametrize("layer_cls", list(CONVS.values()), ids=lambda c: c.__name__)
def test_implementation_round_trips_through_config(layer_cls):
    args = () if issubclass(layer_cls, cl.shared_conv.BaseSharedConv) else (2,)
    assert layer_cls(*args, delta=1).get_config()["implementation"] == "auto"
    for implementation in _fft.IMPLEMENTATIONS:
        layer = layer_cls(*args, delta=1, implementation=implementation)
        config = layer.get_config()
        assert config["implementation"] == implementation
        assert layer_cls.from_config(config).get_config() == config


@pytest.mark.parametrize("layer_cls", list(CONVS.values()), ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", ("FFT2", "winograd", 3, None))
def test_bad_implementation_is_refused(layer_cls, bad):
    args = () if issubclass(layer_cls, cl.shared_conv.BaseSharedConv) else (2,)
    message = (
        "Invalid value for argument `implementation`. Expected one of ['auto', 'direct', 'fft']. "
        f"Received: implementation={bad!r}"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        layer_cls(*args, delta=1, implementation=bad)


def test_fft_needs_the_spatial_size():
    layer = cl.SharedConv(delta=1, implementation="fft")
    with pytest.raises(ValueError, match=r"implementation='fft' needs the input's spatial size"):
        layer(keras.Input((None, None, 1)))


def test_implementation_is_case_insensitive_like_padding():
    assert cl.SharedConv1D(delta=1, implementation="FFT").implementation == "fft"


def test_cases_cover_every_value():
    """The Latin square leaves no window, boundary, stride or flip untested."""
    conv = [p.values for p in _conv_cases()]
    lc = [p.values for p in _lc_cases()]
    for cases, families in ((conv, CONVS.values()), (lc, LOCALLY_CONNECTED.values())):
        assert {c[0] for c in cases} == set(families)
        assert {(c[2], c[3]) for c in cases} == set(BOUNDARIES)
        assert {c[5] for c in cases} == {False, True}
    assert {c[4] for c in lc} == {1, 2, 3}
    for rank in (1, 2):
        windows = {repr(c[1]) for c in conv if c[0] is CONVS["SharedConv", rank]}
        assert windows == {repr(w) for w in (*WINDOWS[rank], WHOLE)}
    assert len(conv) + len(lc) < 60  # JAX compiles every new shape: keep the file fast
    assert list(itertools.chain(conv, lc))

"""The convolution theorem (D2L §7.1, exercise 7): correlation as a product of spectra.

    (V ⋆ X)[i] = Σ_a V[a] · X[i+a]   ⇔   F(V ⋆ X) = conj(F(V)) · F(X)

on the discrete torus. `SharedConv` and `MultiChannelConv` with
`implementation="fft"` compute their output this way, in keras.ops only
(`rfft`/`irfft` along the last axis, `fft` on (real, imag) pairs for the
other axis of an image, and its conjugate for the inverse), so that a kernel as large as the image costs
O(N log N) per channel instead of O(N · window):

- boundary: the input is padded as the direct path pads it ("zeros",
  "reflect", "symmetric"), and the transform length N is at least the padded
  length, so the circular wrap only reaches outputs that "valid" discards;
  with padding_mode="circular" the layer *is* a correlation on the torus of
  the input's own size, which the transform of length n computes exactly (a
  kernel longer than n is first folded modulo n);
- strides: the stride-1 output, subsampled;
- dilation: the kernel with d - 1 zeros between its taps (`dilate`), whose
  transform costs the same as the undilated one's;
- convolution=True: the kernel arrives already flipped (`_oriented`).

`choose` is the rule that `implementation="auto"` applies; the crossover it
encodes was measured on a 2-core CPU (see BENCHMARKS.md).
"""

import math

import keras
from keras import ops

from constrained_layers import _boundary

IMPLEMENTATIONS = ("auto", "direct", "fft")

#: The `implementation` argument's docstring, shared by the layers that take it.
IMPLEMENTATION_ARG = """
        implementation: how the output is computed; every choice gives the
            same result up to float32 rounding. "direct" (the built-in
            convolution op), "fft" (the convolution theorem, §7.1 exercise 7:
            O(N log N) per channel, whatever the kernel size; needs the
            input's spatial size) or "auto" (default: "fft" from the
            kernel size at which it was measured to win, e.g. 13×13 for
            SharedConv on images; "direct" below it or when the input's size
            is unknown)."""

#: "auto" picks the FFT when the kernel has at least this many taps, by
#: (depthwise, rank): crossovers measured on a 2-core CPU, TensorFlow 2.21
#: with oneDNN, in a training step (`python -m benchmarks`, BENCHMARKS.md).
#: SharedConv on images: FFT wins from 11×11 on 64×64 and from 15×15 on
#: 28×28 (a tie at 13×13), so "auto" switches at 13×13. MultiChannelConv
#: (C=8, F=16), whose direct op is far more efficient per tap: from 15×15
#: on 28×28. The 1D thresholds (15 and 63 taps on sequences of 784) come
#: from a one-off measurement that the benchmark does not repeat.
MIN_FFT_TAPS = {(True, 1): 15, (True, 2): 13 * 13, (False, 1): 63, (False, 2): 15 * 15}


def choose(implementation, spatial, window, depthwise):
    """The implementation to run: "direct" or "fft".

    Args:
        implementation: "direct", "fft" or "auto".
        spatial: the input's spatial shape (entries may be None).
        window: the kernel's spatial shape.
        depthwise: True for SharedConv (one kernel per channel), False for
            MultiChannelConv (channels mixed).

    Returns:
        "direct" or "fft". "auto" gives "fft" for kernels of at least
        `MIN_FFT_TAPS` taps on inputs of known size, else "direct".

    Example:

    >>> choose("auto", (28, 28), (55, 55), depthwise=True)
    'fft'
    >>> choose("auto", (28, 28), (5, 5), depthwise=True)
    'direct'
    """
    if implementation != "auto":
        return implementation
    if any(n is None for n in spatial):
        return "direct"
    return "fft" if math.prod(window) >= MIN_FFT_TAPS[bool(depthwise), len(window)] else "direct"


def _smooth_size(n):
    """The smallest 2·3·5-smooth integer >= n (fast transform lengths)."""
    size = n
    while True:
        m = size
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return size
        size += 1


def correlate(x, kernel, strides, amounts, padding_mode, depthwise):
    """Cross-correlation of `x` with `kernel` by FFT, as the direct path computes it.

    Args:
        x: (B, *spatial, C), unpadded, spatial size known.
        kernel: (*window, C, M), already flipped for a true convolution;
            M = 1 when `depthwise` (SharedConv), else M = filters.
        strides: one stride per spatial axis.
        amounts: (before, after) padding per spatial axis ((0, 0) for
            "valid").
        padding_mode: "zeros", "reflect", "symmetric" or "circular".
        depthwise: whether each channel has its own kernel (output C
            channels) or channels are mixed (output M channels).

    Returns:
        (B, *out_spatial, C or M), in the input's dtype.
    """
    rank = len(strides)
    dtype = x.dtype
    compute = "float64" if keras.backend.standardize_dtype(dtype) == "float64" else "float32"
    x = ops.cast(x, compute)
    kernel = ops.cast(kernel, compute)
    spatial = tuple(x.shape[1 : rank + 1])
    window = tuple(kernel.shape[:rank])
    circular = padding_mode == "circular" and any(b or a for b, a in amounts)
    if circular:
        sizes = spatial  # the torus of the input itself
        kernel = _fold(kernel, window, spatial)
    else:
        x = _boundary.pad(x, amounts, padding_mode)
        sizes = tuple(_smooth_size(n) for n in x.shape[1 : rank + 1])
    # Channels first, spatial axes last (the axes the transforms run over).
    xs = ops.transpose(x, (0, rank + 1, *range(1, rank + 1)))  # (B, C, *N)
    ks = ops.transpose(kernel, (rank, rank + 1, *range(rank)))  # (C, M, *K)
    x_re, x_im = _rfftn(xs, sizes)  # (B, C, *freq)
    k_re, k_im = _rfftn(ks, sizes)  # (C, M, *freq)
    if depthwise:
        k_re, k_im = k_re[:, 0], k_im[:, 0]  # (C, *freq)
        # X · conj(K), per channel.
        y_re = x_re * k_re + x_im * k_im
        y_im = x_im * k_re - x_re * k_im  # (B, C, *freq)
    else:
        y_re, y_im = _mix_channels(x_re, x_im, k_re, k_im)  # (B, M, *freq)
    y = _irfftn(y_re, y_im, sizes)  # (B, C|M, *N): the stride-1 correlation
    index = [slice(None), slice(None)]
    for axis, (n, k, s, (before, after)) in enumerate(zip(spatial, window, strides, amounts)):
        if circular:
            # Output i reads padded pixel i·s + a = input (i·s - before + a) mod n.
            if before:
                y = ops.roll(y, shift=before, axis=axis + 2)
            index.append(slice(0, n if before or after else n - k + 1, s))
        else:
            index.append(slice(0, x.shape[axis + 1] - k + 1, s))
    y = y[tuple(index)]
    y = ops.transpose(y, (0, *range(2, rank + 2), 1))  # (B, *out, C|M)
    return ops.cast(y, dtype)


def dilate(kernel, rates):
    """The kernel (*window, ...) with rate - 1 zeros between taps along each spatial axis.

    Example: a 1D kernel [a, b, c] at rate 2 becomes [a, 0, b, 0, c]; the
    correlation with it is the dilated correlation.
    """
    for axis, rate in enumerate(rates):
        if rate == 1:
            continue
        k = kernel.shape[axis]
        zeros = ops.zeros(kernel.shape, kernel.dtype)
        # Interleave each tap with rate - 1 zero taps, then drop the trailing zeros.
        kernel = ops.stack([kernel] + [zeros] * (rate - 1), axis=axis + 1)  # (..., k, rate, ...)
        shape = list(kernel.shape)
        shape[axis : axis + 2] = [k * rate]
        kernel = ops.reshape(kernel, shape)
        index = [slice(None)] * len(shape)
        index[axis] = slice(0, rate * (k - 1) + 1)
        kernel = kernel[tuple(index)]
    return kernel


def _fold(kernel, window, sizes):
    """Folds a kernel longer than the torus: k'[j] = Σ_m k[j + m·n]."""
    for axis, (k, n) in enumerate(zip(window, sizes)):
        if k <= n:
            continue
        folds = -(-k // n)
        width = [(0, 0)] * len(kernel.shape)
        width[axis] = (0, folds * n - k)
        padded = ops.pad(kernel, width)
        shape = list(padded.shape)
        shape[axis : axis + 1] = [folds, n]
        kernel = ops.sum(ops.reshape(padded, shape), axis=axis)
    return kernel


def _mix_channels(x_re, x_im, k_re, k_im):
    """Σ_c X[b,c] · conj(K[c,m]) at every frequency, as one real matmul.

    [Yr Yi] = [Xr Xi] @ [[Kr, -Ki], [Ki, Kr]], batched over frequencies.
    """
    channels = x_re.shape[1]
    filters = k_re.shape[1]
    freq = tuple(x_re.shape[2:])
    n_freq = math.prod(freq)
    xs = ops.concatenate([x_re, x_im], axis=1)  # (B, 2C, *freq)
    xs = ops.transpose(ops.reshape(xs, (-1, 2 * channels, n_freq)), (2, 0, 1))  # (U, B, 2C)
    top = ops.concatenate([k_re, -k_im], axis=1)  # (C, 2M, *freq)
    bottom = ops.concatenate([k_im, k_re], axis=1)
    ks = ops.reshape(ops.concatenate([top, bottom], axis=0), (2 * channels, 2 * filters, n_freq))
    ks = ops.transpose(ks, (2, 0, 1))  # (U, 2C, 2M)
    ys = ops.matmul(xs, ks)  # (U, B, 2M)
    ys = ops.reshape(ops.transpose(ys, (1, 2, 0)), (-1, 2 * filters, *freq))  # (B, 2M, *freq)
    return ys[:, :filters], ys[:, filters:]


def _pad_to(x, sizes):
    """Zero-pads the trailing len(sizes) axes of x to `sizes`."""
    lead = len(x.shape) - len(sizes)
    width = [(0, 0)] * lead + [(0, n - m) for n, m in zip(sizes, x.shape[lead:])]
    if all(a == 0 for _, a in width):
        return x
    return ops.pad(x, width)


def _swap_last(x):
    axes = list(range(len(x.shape)))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return ops.transpose(x, axes)


def _rfftn(x, sizes):
    """Real FFT over the trailing 1 or 2 axes, zero-padded to `sizes`.

    Returns (real, imag). For 2 axes the frequency axes come out as
    (W//2+1, H): the last axis is transformed first (`rfft`), then the
    other (`fft` on the pair, moved last).
    """
    x = _pad_to(x, sizes)
    re, im = ops.rfft(x)
    if len(sizes) == 1:
        return re, im
    return ops.fft((_swap_last(re), _swap_last(im)))  # (..., W//2+1, H)


def _irfftn(re, im, sizes):
    """Inverse of `_rfftn`: real output of shape (..., *sizes)."""
    if len(sizes) == 2:
        # keras.ops has no ifft: ifft(z) = conj(fft(conj(z))) / n.
        re, im = ops.fft((re, -im))
        n = sizes[0]
        re, im = _swap_last(re) / n, _swap_last(-im) / n  # (..., H, W//2+1)
    return ops.irfft((re, im), fft_length=sizes[-1])

"""Readable numpy references for the constrained layers, from §7.1's equations.

The slow, obvious path that the layers are checked against: explicit loops
over output positions and window offsets, float64 accumulation, and padding
done with `np.pad` (independent of the layers' own `_boundary` code).
Channels last; every function is rank-generic (1D sequences, 2D images).

    fully connected      H[i,j,d] = U[i,j,d] + Σ_{k,l,c} W[k,l,c,i,j,d] · X[k,l,c]
    locally connected    H[i,j,d] = U[i,j,d] + Σ_{a,b,c} V[i,j,a,b,c,d] · X[i·s+a, j·s+b, c]
    shared conv          H[i,j,c] = u_c      + Σ_{a,b}   V[a,b,c,0]    · X[i·s+a, j·s+b, c]
    multi-channel conv   H[i,j,d] = u_d      + Σ_{a,b,c} V[a,b,c,d]    · X[i·s+a, j·s+b, c]
    low-rank local       H[i,j,d] = Σ_r w[i,j,r] (u[r,d] + Σ_{a,b,c} V_r[a,b,c,d] · X[i·s+a·δ, j·s+b·δ, c])

where X is the input padded for the boundary (δ the dilation rate) and, with `convolution=True`,
V[a,b] is replaced by V[kh-1-a, kw-1-b] (the kernel flipped along its spatial
axes; for odd kernels that is the true convolution Σ V[a,b] X[i-a, j-b]).

Example:

>>> x = np.arange(5.0).reshape(1, 5, 1)  # (B, L, C)
>>> multi_channel_conv(x, np.ones((3, 1, 1)), padding="same")[0, :, 0]
array([1., 3., 6., 9., 7.])
"""

import itertools
import math

import numpy as np

#: Our padding modes and the `np.pad` mode that implements each.
NP_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "symmetric": "symmetric", "circular": "wrap"}


# ---------------------------------------------------------------- boundary
def output_length(n, kernel, stride, padding):
    """Output positions along one axis: ceil(n/s) for "same", else "valid"."""
    if padding == "same":
        return math.ceil(n / stride)
    return (n - kernel) // stride + 1


def padding_amounts(n, kernel, stride, padding):
    """(before, after) along one axis, by Keras/TensorFlow's "same" rule."""
    if padding == "valid":
        return (0, 0)
    out = output_length(n, kernel, stride, padding)
    total = max((out - 1) * stride + kernel - n, 0)
    return (total // 2, total - total // 2)


def pad(x, window, strides, padding, padding_mode="zeros"):
    """Pads the spatial axes of x (B, *spatial, C) as the layer's boundary does."""
    amounts = [padding_amounts(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], window, strides)]
    return np.pad(x, [(0, 0), *amounts, (0, 0)], mode=NP_PAD_MODES[padding_mode])


def whole_input_window(spatial):
    """The whole-input kernel of SharedConv (delta=None): side 2n-1 per axis."""
    return tuple(2 * n - 1 for n in spatial)


def window_from(delta=None, kernel_size=None, rank=2, spatial=None):
    """Kernel size from D2L's Δ (side 2Δ+1) or Keras's kernel_size, per axis."""
    if delta is not None:
        deltas = (delta,) * rank if isinstance(delta, int) else tuple(delta)
        return tuple(2 * d + 1 for d in deltas)
    if kernel_size is not None:
        return (kernel_size,) * rank if isinstance(kernel_size, int) else tuple(kernel_size)
    return whole_input_window(spatial)


def _tap(offset, window, convolution):
    """The kernel index used at window offset `offset` (flipped for convolution)."""
    if convolution:
        return tuple(k - 1 - a for a, k in zip(offset, window))
    return tuple(offset)


def _as_tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


# ------------------------------------------------------------------ layers
def fully_connected(x, kernel, bias=None):
    """Eq. (7.1.1): every output pixel has its own weight for every input pixel.

    Args:
        x: input (B, H, W, C) or (B, L, C).
        kernel: (H, W, C, H', W', F) or (L, C, L', F).
        bias: (H', W', F) or (L', F), or None.

    Returns:
        (B, H', W', F) or (B, L', F), float64.
    """
    rank = x.ndim - 2
    in_spatial = x.shape[1:-1]
    out_spatial = kernel.shape[rank + 1 : -1]
    filters = kernel.shape[-1]
    y = np.zeros((x.shape[0], *out_spatial, filters))
    for i in itertools.product(*map(range, out_spatial)):  # output position (i, j)
        total = np.zeros((x.shape[0], filters)) if bias is None else np.array(bias[i], dtype=np.float64)
        for k in itertools.product(*map(range, in_spatial)):  # input position (k, l)
            w = kernel[(*k, slice(None), *i, slice(None))]  # (C, F): W[k,l,:,i,j,:]
            total = total + x[(slice(None), *k)] @ w  # (B, C) @ (C, F)
        y[(slice(None), *i)] = total
    return y


def locally_connected(
    x, kernel, bias=None, kernel_size=1, strides=1, padding="same", padding_mode="zeros", convolution=False
):
    """Locality without weight sharing: one (kh, kw, C, F) kernel per output position.

    Args:
        x: input (B, *spatial, C).
        kernel: (P, kh·kw·C, F) with P = Π out_spatial, positions row-major
            and each patch flattened in (row, column, channel) order (tf-keras's
            `LocallyConnected2D(implementation=1)` layout).
        bias: (*out_spatial, F) or None.

    Returns:
        (B, *out_spatial, F), float64.
    """
    rank = x.ndim - 2
    channels = x.shape[-1]
    window = _as_tuple(kernel_size, rank)
    strides = _as_tuple(strides, rank)
    out_spatial = tuple(output_length(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], window, strides))
    xp = pad(x, window, strides, padding, padding_mode)
    filters = kernel.shape[-1]
    y = np.zeros((x.shape[0], *out_spatial, filters))
    for p, i in enumerate(itertools.product(*map(range, out_spatial))):  # position p = (i, j), row-major
        v = kernel[p].reshape(*window, channels, filters)  # V[i,j] as (kh, kw, C, F)
        total = np.zeros((x.shape[0], filters)) if bias is None else np.array(bias[i], dtype=np.float64)
        for a in itertools.product(*map(range, window)):  # window offset (a, b)
            pixel = tuple(ii * s + aa for ii, s, aa in zip(i, strides, a))  # (i·s+a, j·s+b)
            total = total + xp[(slice(None), *pixel)] @ v[_tap(a, window, convolution)]  # (B, C) @ (C, F)
        y[(slice(None), *i)] = total
    return y


def shared_conv(x, kernel, bias=None, strides=1, padding="same", padding_mode="zeros", convolution=False):
    """Eq. (7.1.3) on each channel: H[i,j,c] = u_c + Σ_{a,b} V[a,b,c,0] X[i·s+a, j·s+b, c].

    Args:
        x: input (B, *spatial, C).
        kernel: (*window, C, 1).
        bias: (C,) or None.

    Returns:
        (B, *out_spatial, C), float64.
    """
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    strides = _as_tuple(strides, rank)
    out_spatial = tuple(output_length(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], window, strides))
    xp = pad(x, window, strides, padding, padding_mode)
    y = np.zeros((x.shape[0], *out_spatial, x.shape[-1]))
    for i in itertools.product(*map(range, out_spatial)):
        total = np.zeros((x.shape[0], x.shape[-1])) if bias is None else np.array(bias, dtype=np.float64)
        for a in itertools.product(*map(range, window)):
            pixel = tuple(ii * s + aa for ii, s, aa in zip(i, strides, a))
            total = total + xp[(slice(None), *pixel)] * kernel[_tap(a, window, convolution)][:, 0]  # (B, C) * (C,)
        y[(slice(None), *i)] = total
    return y


def multi_channel_conv(x, kernel, bias=None, strides=1, padding="same", padding_mode="zeros", convolution=False):
    """Eq. (7.1.7): H[i,j,d] = u_d + Σ_{a,b,c} V[a,b,c,d] X[i·s+a, j·s+b, c].

    Args:
        x: input (B, *spatial, C).
        kernel: (*window, C, F).
        bias: (F,) or None.

    Returns:
        (B, *out_spatial, F), float64.
    """
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    strides = _as_tuple(strides, rank)
    out_spatial = tuple(output_length(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], window, strides))
    xp = pad(x, window, strides, padding, padding_mode)
    filters = kernel.shape[-1]
    y = np.zeros((x.shape[0], *out_spatial, filters))
    for i in itertools.product(*map(range, out_spatial)):
        total = np.zeros((x.shape[0], filters)) if bias is None else np.array(bias, dtype=np.float64)
        for a in itertools.product(*map(range, window)):
            pixel = tuple(ii * s + aa for ii, s, aa in zip(i, strides, a))
            total = total + xp[(slice(None), *pixel)] @ kernel[_tap(a, window, convolution)]  # (B, C) @ (C, F)
        y[(slice(None), *i)] = total
    return y


def low_rank_locally_connected(
    x, kernel, mixing, bias=None, strides=1, padding="same", padding_mode="zeros", convolution=False,
    dilation_rate=1,
):
    """Low-rank local connectivity: at position p the kernel Σ_r w[p,r] V_r, the bias Σ_r w[p,r] u_r.

    Forms each position's kernel and bias from the equation, then applies
    it as `locally_connected` does (the layer never forms them).

    Args:
        x: input (B, *spatial, C).
        kernel: (*window, C, R, F): V_r = kernel[..., r, :].
        mixing: (*out_spatial, R): w.
        bias: (R, F) or None.
        dilation_rate: spacing δ between the window's taps.

    Returns:
        (B, *out_spatial, F), float64.
    """
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    strides = _as_tuple(strides, rank)
    dilation = _as_tuple(dilation_rate, rank)
    extent = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
    out_spatial = tuple(output_length(n, k, s, padding) for n, k, s in zip(x.shape[1:-1], extent, strides))
    assert mixing.shape[:-1] == out_spatial, (mixing.shape, out_spatial)
    xp = pad(x, extent, strides, padding, padding_mode)
    filters = kernel.shape[-1]
    y = np.zeros((x.shape[0], *out_spatial, filters))
    for i in itertools.product(*map(range, out_spatial)):  # position p = (i, j)
        w = mixing[i].astype(np.float64)  # (R,)
        v = np.tensordot(kernel.astype(np.float64), w, axes=([rank + 1], [0]))  # Σ_r w[p,r] V_r: (*window, C, F)
        total = np.zeros((x.shape[0], filters)) if bias is None else np.tile(w @ bias, (x.shape[0], 1))
        for a in itertools.product(*map(range, window)):  # window offset (a, b)
            pixel = tuple(ii * s + aa * d for ii, s, aa, d in zip(i, strides, a, dilation))
            total = total + xp[(slice(None), *pixel)] @ v[_tap(a, window, convolution)]  # (B, C) @ (C, F)
        y[(slice(None), *i)] = total
    return y


def low_rank_mixing(weights, normalization=None, factorization=None):
    """w[p, r] from the low-rank layer's mixing weights, by the options' equations, position by position.

        factorization None:          θ[p, r] = mixing[p, r]
        factorization "row_column":  θ[i, j, r] = mixing_rows[i, r] + mixing_columns[j, r]
        normalization None:          w[p, r] = θ[p, r]
        normalization "softmax":     w[p, r] = exp θ[p, r] / Σ_s exp θ[p, s]

    Args:
        weights: {"mixing": (*out, R)} or {"mixing_rows": (H', R), "mixing_columns": (W', R)}.

    Returns:
        w, (*out, R), float64.
    """
    if factorization == "row_column":
        rows, columns = (np.asarray(weights[k], np.float64) for k in ("mixing_rows", "mixing_columns"))
        theta = np.zeros((rows.shape[0], columns.shape[0], rows.shape[1]))
        for i, j in itertools.product(range(rows.shape[0]), range(columns.shape[0])):
            theta[i, j] = rows[i] + columns[j]
    else:
        theta = np.asarray(weights["mixing"], np.float64)
    if normalization != "softmax":
        return theta
    w = np.zeros_like(theta)
    for p in itertools.product(*map(range, theta.shape[:-1])):
        e = np.exp(theta[p])  # (R,)
        w[p] = e / e.sum()
    return w

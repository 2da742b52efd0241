"""What happens at the boundary (§7.1, exercise 5): padding amounts and modes.

The amounts follow Keras/TensorFlow's rules, so that our layers and the
built-in ones agree on every shape: with "same" the output has
ceil(n / stride) positions and the total padding (k - 1 for stride 1) is
split with the extra pixel, if any, at the end; with "causal" (sequences)
all k - 1 pixels go before, so that the output at t sees only inputs <= t.
Here k is the window's extent, dilation·(kernel_size - 1) + 1.
"""

import keras
from keras import ops


def output_length(n, kernel, stride, padding):
    """Output positions along one axis ("same"/"causal": ceil(n/s); "valid")."""
    if n is None:
        return None
    if padding in ("same", "causal"):
        return -(-n // stride)
    return (n - kernel) // stride + 1


def padding_amounts(n, kernel, stride, padding):
    """(before, after) padding along one axis, as Keras pads."""
    if padding == "valid":
        return (0, 0)
    if padding == "causal":
        return (kernel - 1, 0)
    if stride == 1:
        total = kernel - 1
    else:
        total = max((output_length(n, kernel, stride, padding) - 1) * stride + kernel - n, 0)
    return (total // 2, total - total // 2)


def max_padding(mode, n):
    """The widest padding `mode` allows on an axis of length n."""
    return {"reflect": n - 1, "symmetric": n, "circular": n}.get(mode)


def pad(x, amounts, mode):
    """Pads the spatial axes 1..rank of a channels-last tensor.

    Args:
        x: tensor of shape (batch, *spatial, channels).
        amounts: one (before, after) pair per spatial axis.
        mode: "zeros", "reflect" (mirror without repeating the edge),
            "symmetric" (mirror repeating the edge) or "circular" (wrap
            around: the torus on which convolution is exactly equivariant).
    """
    if all(b == 0 and a == 0 for b, a in amounts):
        return x
    if mode == "symmetric" and keras.backend.backend() == "torch":
        # Keras's torch backend pads "symmetric" as torch's "replicate" (the
        # edge repeated, keras-team/keras#23230): mirror blocks instead.
        return _pad_blocks(x, amounts, symmetric=True)
    if mode in ("zeros", "reflect", "symmetric"):
        width = [(0, 0), *amounts, (0, 0)]
        return ops.pad(x, width, mode="constant" if mode == "zeros" else mode)
    # circular: ops.pad's "wrap" is not on every backend; concatenate blocks.
    return _pad_blocks(x, amounts, symmetric=False)


def _pad_blocks(x, amounts, symmetric):
    """Pads by concatenating blocks of x: wrapped around, or mirrored with the edge."""
    for axis, (before, after) in enumerate(amounts, start=1):
        if symmetric:
            parts = [ops.flip(_block(x, axis, 0, before), axis=axis)] if before else []
        else:
            parts = [_block(x, axis, -before, None)] if before else []
        parts.append(x)
        if after and symmetric:
            parts.append(ops.flip(_block(x, axis, -after, None), axis=axis))
        elif after:
            parts.append(_block(x, axis, 0, after))
        x = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=axis)
    return x


def _block(x, axis, start, stop):
    """x[..., start:stop, ...] along `axis` (start < 0 counts from the end).

    Where the axis has a static length this is `ops.slice` (a contiguous
    block, whose gradient is a pad: measured 1.2-1.3× faster for a training
    step of SharedConv than strided slicing, BENCHMARKS.md); on an axis of
    unknown length (inputs of varying size) it slices from the end.
    """
    n = x.shape[axis]
    if n is None:
        index = [slice(None)] * len(x.shape)
        index[axis] = slice(start, stop)
        return x[tuple(index)]
    begin = [0] * len(x.shape)
    begin[axis] = start % n
    size = [-1 if d is None else d for d in x.shape]
    size[axis] = (n if stop is None else stop) - begin[axis]
    return ops.slice(x, begin, size)


def strided_window(x, offsets, strides, out_sizes):
    """x[:, o0 : o0 + s0*n0 : s0, o1 : ..., :], the input seen at one offset.

    For every output position p along each axis this picks input p*s + o: the
    pixel that the kernel tap at `offsets` reads for that output.
    """
    index = [slice(None)]
    for o, s, n in zip(offsets, strides, out_sizes):
        index.append(slice(o, o + s * (n - 1) + 1, s))
    index.append(slice(None))
    return x[tuple(index)]

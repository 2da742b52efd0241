"""Where tf-keras's LocallyConnected1D/2D keep their weights, and where they pad.

The index tables and padding rules `compat`'s layers follow to hold their
weights in tf-keras's layout (see `constrained_layers.compat`).
"""

import functools

import numpy as np


def tf_keras_padding(n, kernel, stride, padding):
    """(before, after) zeros that tf-keras's locally connected layers read.

    "valid": none. "same" (`conv_utils.conv_connected_inputs`): output i
    reads inputs i·stride - k//2 ... i·stride - k//2 + k - 1, i.e. k // 2
    zeros before whatever the stride, and as many after as the last window
    needs. (Keras's "same" splits (out-1)·stride + k - n zeros, the extra one
    after.)
    """
    if padding == "valid":
        return (0, 0)
    out = -(-n // stride)
    before = kernel // 2
    return (before, max(0, (out - 1) * stride + kernel - before - n))


@functools.lru_cache(maxsize=32)
def kernel_index(implementation, data_format, plan, channels, filters):
    """Where each (position, tap, channel, filter) block entry is in the kernel.

    Args:
        implementation: 2 or 3 (implementation 1 is a reshape).
        data_format: "channels_last" or "channels_first".
        plan: the native `_Plan` of the layer and input shape: its `gather`
            (P, T) is the input pixel each (position, tap) reads, `pixels`
            (Q) for a tap in the zero padding.
        channels, filters: C and F.

    Returns:
        (index, size): int32 (P, T, C, F) indices into the flattened kernel
        (of `size` entries), with `size` (one past the end: a zero appended
        to the kernel) for the entries that read the padding.
    """
    gather, pixels = plan.gather, plan.pixels
    positions, taps = gather.shape
    p = np.arange(positions)[:, None, None, None]
    q = gather.astype(np.int64)[:, :, None, None]
    c = np.arange(channels)[None, None, :, None]
    f = np.arange(filters)[None, None, None, :]
    shape = (positions, taps, channels, filters)
    connected = np.broadcast_to(q < pixels, shape)
    if implementation == 2:
        size = pixels * channels * positions * filters
        if data_format == "channels_last":  # (*in, C, *out, F)
            flat = ((q * channels + c) * positions + p) * filters + f
        else:  # (C, *in, F, *out)
            flat = ((c * pixels + q) * filters + f) * positions + p
        flat = np.broadcast_to(flat, shape)
    elif implementation == 3:
        # A sparse (P·F, Q·C) matrix; the values ordered by sorted
        # (output index, input index), in the data format's flat order.
        if data_format == "channels_last":
            out_index, in_index = p * filters + f, q * channels + c
        else:
            out_index, in_index = f * positions + p, c * pixels + q
        key = np.broadcast_to(out_index * (pixels * channels) + in_index, shape)[connected]
        size = key.size
        flat = np.empty(shape, np.int64)
        flat[connected] = np.argsort(np.argsort(key, kind="stable"), kind="stable")
    else:
        raise ValueError(f"No index table for implementation={implementation!r}")
    index = np.where(connected, flat, size)
    return index.astype(np.int32), size


def keras_same_before(n, kernel, stride):
    """Zeros Keras's (and the native layers') padding="same" puts before."""
    out = -(-n // stride)
    return max((out - 1) * stride + kernel - n, 0) // 2

"""The fast path of `LocallyConnected`: one gather per tile, and a gradient without a scatter.

How it is computed. The layer does exactly the multiply-adds of a
convolution with the same window, but as one small matrix product per output
position, so what costs is moving data, not arithmetic. The obvious
formulation (stack one strided view of the input per kernel tap into patches
(B, P, kh·kw·C), einsum with the kernel; `_apply_kernel_patches`, kept as the
readable path) materializes the patches, and its gradient scatters them back
through kh·kw strided-slice gradients. The fast path instead:

- works batch-last: the input as (pixels, C, B), so that every (pixel, tap)
  of a patch is one contiguous block of C·B numbers;
- reads the patches with one gather per tile of output positions (the
  boundary, strides and kernel flip are folded into a precomputed index
  table, `_Plan`), tiles sized to stay in cache, and multiplies each tile by
  its positions' kernels: (F, kh·kw·C) @ (kh·kw·C, B) per position;
- defines its own gradient (`ops.custom_gradient`): the kernel's gradient
  re-gathers each tile (nothing as large as the patches is kept between the
  passes) and the input's gradient is itself a locally connected layer
  applied to the output gradient, each input pixel gathering the (position,
  tap) pairs that read it, pixels grouped by how many there are (the border
  is read less) so that no product multiplies padding: no scatter, no
  patch-sized intermediate.

The same code runs on JAX (under XLA). On TensorFlow, one training step of
the layer alone measured 2.1-2.9× MultiChannelConv of the same shape (4.3×
with 32 channels at batch 32), 5.9-17.9× faster than tf-keras's fastest
implementation and with 4.6-31× less peak step memory than its
implementation=1 (3.2-13× less than its fastest); BENCHMARKS.md has the
table and what else was tried.
"""

import functools
import math

import numpy as np
from keras import ops

from constrained_layers.windowed import window_offsets

#: Target size of one tile's gathered patches: small enough to stay in cache
#: between the gather and the matrix product that reads it.
_TILE_BYTES = 4 * 2**20
#: At most this many tiles (each tile is a few ops in the graph).
_MAX_TILES = 64
#: Batch size assumed for tiling when the batch axis is not known statically.
_ASSUMED_BATCH = 128

_NP_PAD_MODES = {"reflect": "reflect", "symmetric": "symmetric", "circular": "wrap"}


class _Plan:
    """Which input pixel each (output position, kernel tap) reads, and back.

    Attributes:
        pixels: number of input pixels Q (one more, index Q, is a zero pixel
            that the taps falling in zero padding read).
        gather: int32 (P, T): the pixel that position p reads with kernel
            block t (kernel blocks in the kernel's (kh, kw) row-major order;
            block t at offset o reads pixel p·stride + dilation·o of the
            padded input; with `convolution`, the flipped offset).
        reads_zero: whether any tap reads the zero pixel.
        groups: the input pixels, grouped by how many (position, tap)
            pairs read them (`_Group`), with those pairs.
        unread: how many pixels no output reads (strides wider than the
            window): their gradient is zero.
        inverse: the permutation from (groups' pixels, then unread pixels)
            back to pixel order, or None when that is already the order.
    """

    def __init__(self, in_spatial, out_spatial, window, strides, dilation, amounts, padding_mode, convolution):
        pixels = math.prod(in_spatial)
        grid = np.arange(pixels).reshape(in_spatial)
        if padding_mode == "zeros":
            padded = np.pad(grid, amounts, constant_values=pixels)
        else:
            padded = np.pad(grid, amounts, mode=_NP_PAD_MODES[padding_mode])
        taps = []
        for offset in window_offsets(window):  # kernel block t, row-major
            taps_read = tuple(k - 1 - o for k, o in zip(window, offset)) if convolution else offset
            read = tuple(d * o for d, o in zip(dilation, taps_read))
            index = tuple(slice(r, r + s * (n - 1) + 1, s) for r, s, n in zip(read, strides, out_spatial))
            taps.append(padded[index].reshape(-1))
        gather = np.stack(taps, axis=1)  # (P, T)
        positions, n_taps = gather.shape

        flat = gather.reshape(-1)  # entry f = p·T + t
        used = np.flatnonzero(flat < pixels)
        order = np.argsort(flat[used], kind="stable")
        entries, targets = used[order], flat[used][order]  # grouped by the pixel they read
        counts = np.bincount(targets, minlength=pixels)
        starts = np.cumsum(counts) - counts
        # Pixels grouped by how many (position, tap) pairs read them (the
        # border is read less), so that no product multiplies padding.
        groups = []
        for count in sorted(set(counts[counts > 0].tolist()), reverse=True):
            members = np.flatnonzero(counts == count)
            rows = starts[members][:, None] + np.arange(count)  # (n, count) into `entries`
            groups.append(
                _Group(members.astype(np.int32), (entries[rows]).astype(np.int32), (entries[rows] // n_taps).astype(np.int32))
            )
        order = np.concatenate([g.pixels for g in groups] + [np.flatnonzero(counts == 0)]).astype(np.int64)
        inverse = np.empty(pixels, np.int64)
        inverse[order] = np.arange(pixels)

        self.pixels = pixels
        self.positions = positions
        self.taps = n_taps
        self.gather = gather.astype(np.int32)
        self.reads_zero = bool((flat == pixels).any())
        self.groups = groups
        self.unread = int((counts == 0).sum())
        self.inverse = None if np.array_equal(order, np.arange(pixels)) else inverse.astype(np.int32)


class _Group:
    """Input pixels read by the same number of (position, tap) pairs.

    Attributes:
        pixels: int32 (n,), the pixels.
        kernel_blocks: int32 (n, count), kernel block p·T+t of each pair.
        sources: int32 (n, count), output position p of each pair.
    """

    def __init__(self, pixels, kernel_blocks, sources):
        self.pixels = pixels
        self.kernel_blocks = kernel_blocks
        self.sources = sources
        self.count = kernel_blocks.shape[1]


@functools.lru_cache(maxsize=32)
def plan(in_spatial, out_spatial, window, strides, dilation, amounts, padding_mode, convolution):
    return _Plan(in_spatial, out_spatial, window, strides, dilation, amounts, padding_mode, convolution)


def _tiles(n, item_bytes):
    """[(start, stop), ...] covering range(n) with tiles of about _TILE_BYTES."""
    size = max(1, _TILE_BYTES // max(1, item_bytes), -(-n // _MAX_TILES))
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def _concat(parts):
    return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=0)


def locally_connected_op(inputs, kernel, plan, out_spatial):
    """The locally connected product of `inputs` and `kernel`, with its gradient.

    Args:
        inputs: (B, *in_spatial, C), unpadded (the plan holds the boundary).
        kernel: (P, T, C, F), the layer's kernel as one (C, F) block per
            position and tap (never flipped: the plan says which pixel each
            block reads).
        plan: the `_Plan` of this layer and input shape.
        out_spatial: the output's spatial shape (P positions).

    Returns:
        (B, *out_spatial, F).
    """
    rank = len(out_spatial)
    channels = inputs.shape[-1]
    filters = kernel.shape[-1]
    batch = inputs.shape[0] or _ASSUMED_BATCH
    itemsize = 4
    patch = plan.taps * channels  # T·C
    to_batch_last = (*range(1, rank + 1), rank + 1, 0)  # (B, *S, C) -> (*S, C, B)
    from_batch_last = (rank + 1, *range(rank), rank)  # (*S, C, B) -> (B, *S, C)
    position_tiles = _tiles(plan.positions, patch * batch * itemsize)

    @ops.custom_gradient
    def apply(x, k):
        xf = ops.reshape(ops.transpose(x, to_batch_last), (plan.pixels, channels, -1))  # (Q, C, B)
        if plan.reads_zero:
            xf = ops.pad(xf, [(0, 1), (0, 0), (0, 0)])  # (Q+1, C, B): pixel Q is zero

        def patches(start, stop):
            taken = ops.take(xf, plan.gather[start:stop], axis=0)  # (Pt, T, C, B)
            return ops.reshape(taken, (stop - start, patch, -1))  # (Pt, T·C, B)

        k_p = ops.reshape(k, (plan.positions, patch, filters))  # (P, T·C, F)
        y = _concat(
            [ops.matmul(ops.transpose(k_p[s:e], (0, 2, 1)), patches(s, e)) for s, e in position_tiles]
        )  # (P, F, B)
        y = ops.transpose(ops.reshape(y, (*out_spatial, filters, -1)), from_batch_last)  # (B, *out, F)

        def grad(*args, upstream=None):
            dy = args[0] if upstream is None else upstream  # (B, *out, F)
            dy = ops.reshape(ops.transpose(dy, to_batch_last), (plan.positions, filters, -1))  # (P, F, B)
            # Kernel: dV[p] = patches[p] @ dy[p]ᵀ, tile by tile. (Transposes
            # that feed a matmul cost nothing on TensorFlow: Grappler folds
            # them into the product's adjoint flags.)
            dk = _concat(
                [ops.matmul(patches(s, e), ops.transpose(dy[s:e], (0, 2, 1))) for s, e in position_tiles]
            )  # (P, T·C, F)
            dk = ops.reshape(dk, (plan.positions, plan.taps, channels, filters))  # (P, T, C, F)
            # Input: dX[q] = Σ over the (p, t) that read pixel q of V[p,t]ᵀ dy[p]:
            # a locally connected layer applied to dy, with no scatter.
            blocks = ops.reshape(ops.transpose(k, (0, 1, 3, 2)), (plan.positions * plan.taps, filters, channels))
            dx = []
            for group in plan.groups:
                width = group.count * filters
                for s, e in _tiles(len(group.pixels), width * batch * itemsize):
                    k_q = ops.take(blocks, group.kernel_blocks[s:e], axis=0)  # (Qt, m, F, C)
                    k_q = ops.reshape(k_q, (e - s, width, channels))  # (Qt, m·F, C)
                    dy_q = ops.take(dy, group.sources[s:e], axis=0)  # (Qt, m, F, B)
                    dy_q = ops.reshape(dy_q, (e - s, width, -1))  # (Qt, m·F, B)
                    dx.append(ops.matmul(ops.transpose(k_q, (0, 2, 1)), dy_q))  # (Qt, C, B)
            if plan.unread:
                dx.append(ops.zeros((plan.unread, channels, ops.shape(x)[0]), dtype=x.dtype))
            dx = _concat(dx)  # (Q, C, B), pixels in the groups' order
            if plan.inverse is not None:
                dx = ops.take(dx, plan.inverse, axis=0)  # (Q, C, B), pixel order
            dx = ops.reshape(dx, (*x.shape[1:-1], channels, -1))  # (*S, C, B)
            return ops.transpose(dx, from_batch_last), dk

        return y, grad

    return apply(inputs, kernel)

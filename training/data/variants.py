"""The zoo's input variants: pixel shuffle, test-time shift, random translation.

Each probes one inductive bias of §7.1's layers:

- `shuffle_pixels`: one fixed permutation of the spatial positions, the same
  for every image of every split and every run (the "spatially shuffled"
  experiment of MNIST-1D, Greydanus 2020). A fully connected layer does not
  care; locality and translation invariance lose what they assume.
- `shift_images`: the test images moved by k pixels along the width (images)
  or the length (sequences), zero fill: how much a family depends on position.
- `random_translate`: training-time augmentation, a random translation of up
  to `max_shift` pixels along every spatial axis, zero fill, as a tf op.

All take channels-last batches: `(N, L, C)` sequences or `(N, H, W, C)` images.
"""

import numpy as np
import tensorflow as tf

__all__ = [
    "PIXEL_SHUFFLE_SEED",
    "pixel_permutation",
    "random_translate",
    "shift_images",
    "shuffle_pixels",
]

#: The permutation's own seed: never the training seed, so that every run,
#: every split and every model sees the same shuffled pixels.
PIXEL_SHUFFLE_SEED = 20200701


def pixel_permutation(spatial_shape):
    """The fixed permutation of the positions of a `spatial_shape` grid.

    Args:
        spatial_shape: `(L,)` for sequences or `(H, W)` for images.

    Returns:
        An int64 array holding a permutation of `range(prod(spatial_shape))`,
        position `i` of a shuffled image taking position `perm[i]` of the
        original (positions in C order). The same for every call.

    Example:

    >>> pixel_permutation((2, 2)).shape
    (4,)
    """
    size = int(np.prod(spatial_shape))
    return np.random.default_rng(PIXEL_SHUFFLE_SEED).permutation(size)


def shuffle_pixels(x):
    """Applies `pixel_permutation` to the spatial positions of a batch.

    Args:
        x: `(N, L, C)` or `(N, H, W, C)`; the channels of a position move
            together.

    Returns:
        A new array of the same shape and dtype.

    Example:

    >>> x = np.arange(4, dtype="float32").reshape(1, 2, 2, 1)
    >>> sorted(shuffle_pixels(x).ravel()) == [0, 1, 2, 3]
    True
    """
    spatial = x.shape[1:-1]
    perm = pixel_permutation(spatial)
    flat = x.reshape(x.shape[0], -1, x.shape[-1])  # (N, P, C)
    return flat[:, perm, :].reshape(x.shape)


def shift_images(x, shift):
    """Shifts every image by `shift` pixels along its last spatial axis.

    The width for images, the length for sequences. Positive `shift` moves the
    content right (to larger indices); pixels shifted in are zero (the
    background of (Fashion-)MNIST), pixels shifted out are lost: no wrap.

    Args:
        x: `(N, L, C)` or `(N, H, W, C)`.
        shift: an int with `abs(shift)` smaller than the axis' size.

    Returns:
        A new array of the same shape and dtype.

    Raises:
        ValueError: if `abs(shift)` is not smaller than the axis' size.

    Example:

    >>> shift_images(np.array([[[1.], [2.], [3.]]]), 1)[0, :, 0]
    array([0., 1., 2.])
    """
    size = x.shape[-2]
    if abs(shift) >= size:
        raise ValueError(
            "Invalid value for argument `shift`. Expected |shift| smaller than "
            f"the {size} pixels of the axis shifted. Received: shift={shift!r}"
        )
    out = np.zeros_like(x)
    if shift >= 0:
        out[..., shift:, :] = x[..., : size - shift, :]
    else:
        out[..., :shift, :] = x[..., -shift:, :]
    return out


def random_flip(x, seed):
    """Mirrors each example of a batch along its last spatial axis with probability 1/2.

    The last spatial axis is the width of an image (a horizontal flip) or
    the length of a sequence. Stateless: the same `seed` flips the same
    examples. A label-preserving augmentation only where mirrored inputs
    keep their class (Fashion-MNIST's clothes do; digits do not).

    Args:
        x: a tensor `(B, L, C)` or `(B, H, W, C)`.
        seed: a shape `(2,)` int tensor, as for `tf.random.stateless_uniform`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    >>> x = tf.reshape(tf.range(6.0), (2, 1, 3, 1))
    >>> random_flip(x, tf.constant([0, 0])).shape
    TensorShape([2, 1, 3, 1])
    """
    rank = len(x.shape)
    flip = tf.random.stateless_uniform([tf.shape(x)[0]], seed) < 0.5  # (B,)
    mirrored = tf.reverse(x, axis=[rank - 2])
    return tf.where(tf.reshape(flip, [-1] + [1] * (rank - 1)), mirrored, x)


def random_translate(x, seed, max_shift):
    """Translates each example of a batch by its own random offset, zero fill.

    Along every spatial axis independently, by an integer in
    `[-max_shift, max_shift]`; stateless, so the same `seed` gives the same
    offsets. A translation is a linear map: along an axis of size n it is
    the product with an n×n shifted identity, whose rows that would read
    outside the image are zero (the zero fill). As batched matrix products
    this runs about twice as fast in a `tf.data` map on CPU as gathering
    pixels, and it is exact (each output sums one input times 1).

    Args:
        x: a float tensor `(B, L, C)` or `(B, H, W, C)` with static spatial
            sizes.
        seed: a shape `(2,)` int tensor, as for `tf.random.stateless_uniform`.
        max_shift: the largest translation, in pixels (an int >= 0).

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    >>> x = tf.ones((2, 28, 28, 1))
    >>> random_translate(x, tf.constant([1, 2]), 2).shape
    TensorShape([2, 28, 28, 1])
    """
    if max_shift == 0:
        return x
    rank = len(x.shape) - 2
    axes = "hw" if rank == 2 else "l"
    batch = tf.shape(x)[0]
    seeds = tf.random.experimental.stateless_split(seed, rank)  # (rank, 2)
    for i, axis in enumerate(axes):
        size = x.shape[i + 1]
        offsets = tf.random.stateless_uniform(
            [batch], seeds[i], minval=-max_shift, maxval=max_shift + 1, dtype=tf.int32
        )  # (B,)
        source = tf.range(size)[None, :] - offsets[:, None]  # (B, n): output k reads input k - offset
        shifted_identity = tf.one_hot(source, size, dtype=x.dtype)  # (B, n, n); off the edge: zero rows
        # e.g. "bkh,bhwc->bkwc": each example's rows (or columns) moved.
        x = tf.einsum(f"bk{axis},b{axes}c->b{axes.replace(axis, 'k')}c", shifted_identity, x)
    return x

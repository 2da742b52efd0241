"""Writes small synthetic IDX files, whole or damaged, for the data tests."""

import gzip
import os

import numpy as np

from constrained_zoo.training.data.sources import FASHION_MNIST_FILES


def idx_bytes(array, magic=None):
    """The IDX encoding of a uint8 array: magic, big-endian sizes, data."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = magic.to_bytes(4, "big") + b"".join(s.to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()


def write_idx(path, array=None, *, magic=None, raw=None, compress=None):
    """Writes `raw` bytes or the encoding of `array` to `path`.

    `compress=None` gzips when `path` ends with `.gz`.
    """
    data = idx_bytes(array, magic) if raw is None else raw
    if compress if compress is not None else str(path).endswith(".gz"):
        data = gzip.compress(data)
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def fake_fashion_mnist(folder, num_train=300, num_test=50, compress=True, image_shape=(28, 28)):
    """A Fashion-MNIST-shaped folder whose images encode their identity.

    Pixel (0, 0) and (0, 1) hold the example's index (low and high byte),
    pixel (0, 2) is 1 for training and 2 for test examples; labels cycle
    0..9. Returns the folder.
    """
    os.makedirs(folder, exist_ok=True)
    suffix = ".gz" if compress else ""
    for split, n, flag in (("train", num_train, 1), ("t10k", num_test, 2)):
        images = np.zeros((n, *image_shape), np.uint8)
        ids = np.arange(n)
        images[:, 0, 0], images[:, 0, 1], images[:, 0, 2] = ids % 256, ids // 256, flag
        images[:, 5:, 5:] = (ids[:, None, None] * 7 % 251).astype(np.uint8)  # some content
        write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte{suffix}"), images)
        write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte{suffix}"), ids % 10)
    assert all(os.path.exists(os.path.join(folder, f + suffix)) for f in FASHION_MNIST_FILES)
    return str(folder)


def example_ids(images):
    """Decodes `fake_fashion_mnist`'s identities from float images in [0, 1]."""
    pixels = np.rint(np.asarray(images)[:, 0, :3, 0] * 255).astype(int)  # (N, 3)
    return pixels[:, 2], pixels[:, 0] + 256 * pixels[:, 1]  # (flag, index)

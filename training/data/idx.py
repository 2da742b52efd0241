"""The IDX file format of (Fashion-)MNIST, parsed and checked.

An IDX file is a 4-byte magic number `00 00 TT NN` (TT the element type,
NN the number of dimensions), NN big-endian uint32 sizes, then the elements
in C order. Fashion-MNIST's images are `0x00000803` (uint8, 3 dims:
N × 28 × 28) and its labels `0x00000801` (uint8, 1 dim: N). Files may be
gzip-compressed (recognized by their first bytes, 1f 8b, not by their name).

Every check raises a `ValueError` that names the file and what is wrong, so a
truncated download reads as such instead of as a reshape error.
"""

import gzip
import os
import zlib

import numpy as np

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "read_idx_pair"]

IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension

_GZIP_MAGIC = b"\x1f\x8b"
# The element types of the IDX format: type byte -> big-endian numpy dtype.
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_bytes(path):
    """The file's bytes, decompressed if it starts with the gzip magic."""
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as e:
        raise ValueError(f"IDX file {path} is a truncated gzip file ({e}).") from e
    except (OSError, zlib.error) as e:
        raise ValueError(f"IDX file {path} is a corrupt gzip file ({e}).") from e


def _describe_magic(magic):
    return f"0x{magic:08x}"


def read_idx(path, expected_magic=None):
    """Reads one IDX file (gzip or plain) into a numpy array.

    Args:
        path: the file, e.g. `".../train-images-idx3-ubyte.gz"`.
        expected_magic: the magic number the file must have, e.g.
            `IMAGES_MAGIC` (`0x00000803`); `None` accepts any valid one.

    Returns:
        A numpy array with the file's shape and element type (native byte
        order), e.g. uint8 of shape `(60000, 28, 28)` for training images.

    Raises:
        ValueError: naming `path`, if the magic number is not an IDX one or
            not `expected_magic`, the header is cut short, or the payload is
            not exactly as long as the header's sizes say (truncated or with
            trailing bytes), or the gzip stream is truncated or corrupt.
        FileNotFoundError: if `path` does not exist.

    Example:

    >>> x = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    ...              expected_magic=IMAGES_MAGIC)
    >>> x.shape, x.dtype
    ((10000, 28, 28), dtype('uint8'))
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(
            f"IDX file {path} is truncated: {len(data)} bytes, fewer than the "
            "4 of the magic number."
        )
    magic = int.from_bytes(data[:4], "big")
    zeros, type_byte, ndim = data[0:2], data[2], data[3]
    if zeros != b"\x00\x00" or type_byte not in _DTYPES or ndim == 0:
        raise ValueError(
            f"IDX file {path} has a bad magic number {_describe_magic(magic)}: "
            "expected 0x0000TTNN with TT an IDX element type "
            f"({', '.join(f'0x{t:02x}' for t in _DTYPES)}) and NN >= 1 dimensions."
            + (f" (This file should be {_describe_magic(expected_magic)}.)"
               if expected_magic is not None else "")
        )
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"IDX file {path} has magic number {_describe_magic(magic)} "
            f"(element type 0x{type_byte:02x}, {ndim} dimension(s)), expected "
            f"{_describe_magic(expected_magic)} (element type "
            f"0x{(expected_magic >> 8) & 0xFF:02x}, {expected_magic & 0xFF} "
            "dimension(s))."
        )
    header_end = 4 + 4 * ndim
    if len(data) < header_end:
        raise ValueError(
            f"IDX file {path} is truncated: its header needs {header_end} bytes "
            f"for {ndim} dimension sizes, found {len(data)}."
        )
    shape = tuple(
        int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)
    )
    dtype = _DTYPES[type_byte]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header_end
    if found != expected:
        what = "truncated" if found < expected else "too long"
        dims = "×".join(str(s) for s in shape)
        raise ValueError(
            f"IDX file {path} is {what}: header says {dims} = {expected:,} bytes "
            f"of data, found {found:,}."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx_pair(images_path, labels_path):
    """Reads an images file and its labels file and checks they agree.

    Args:
        images_path: an IDX file of magic `0x00000803` (N × H × W uint8).
        labels_path: an IDX file of magic `0x00000801` (N uint8).

    Returns:
        `(images, labels)`: uint8 arrays of shapes `(N, H, W)` and `(N,)`.

    Raises:
        ValueError: as `read_idx` does for either file, or naming both files
            if their counts of examples differ.

    Example:

    >>> d = "/usr/share/datasets/fashion-mnist"
    >>> x, y = read_idx_pair(f"{d}/t10k-images-idx3-ubyte.gz",
    ...                      f"{d}/t10k-labels-idx1-ubyte.gz")
    >>> x.shape, y.shape
    ((10000, 28, 28), (10000,))
    """
    images = read_idx(images_path, expected_magic=IMAGES_MAGIC)  # (N, H, W)
    labels = read_idx(labels_path, expected_magic=LABELS_MAGIC)  # (N,)
    if len(images) != len(labels):
        raise ValueError(
            f"IDX files disagree on the number of examples: {images_path} has "
            f"{len(images):,} images, {labels_path} has {len(labels):,} labels."
        )
    return images, labels

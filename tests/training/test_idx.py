"""IDX parsing: round trips, and every way a file can be damaged."""

import gzip
import os
import re

import numpy as np
import pytest

from tests.training.idx_files import fake_fashion_mnist, idx_bytes, write_idx
from constrained_zoo.training.data import idx, sources


@pytest.fixture(params=[True, False], ids=["gzip", "plain"])
def compress(request):
    return request.param


def _name(compress):
    return "x-idx3-ubyte.gz" if compress else "x-idx3-ubyte"


def test_round_trip_images_and_labels(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    ipath = write_idx(tmp_path / _name(compress), images, compress=compress)
    lpath = write_idx(tmp_path / ("y" + _name(compress)), labels, compress=compress)
    x, y = idx.read_idx_pair(ipath, lpath)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    assert x.dtype == np.uint8 and x.shape == (5, 28, 28)


def test_gzip_is_recognized_by_content_not_name(tmp_path):
    path = write_idx(tmp_path / "no-suffix", np.zeros((2, 3, 3)), compress=True)
    assert idx.read_idx(path).shape == (2, 3, 3)


def test_other_element_types_are_big_endian(tmp_path):
    values = np.array([1, -2, 300], dtype=">i4")
    path = write_idx(tmp_path / "ints", raw=(0x0C01).to_bytes(4, "big") + (3).to_bytes(4, "big") + values.tobytes())
    np.testing.assert_array_equal(idx.read_idx(path), [1, -2, 300])


@pytest.mark.parametrize("magic", [0x12340803, 0x00000703, 0x00000800])
def test_bad_magic(tmp_path, compress, magic):
    path = write_idx(tmp_path / _name(compress), np.zeros((2, 4, 4)), magic=magic, compress=compress)
    with pytest.raises(ValueError, match=rf"IDX file {re.escape(path)} has a bad magic number 0x{magic:08x}"):
        idx.read_idx(path)


def test_wrong_dims_labels_file_given_as_images(tmp_path, compress):
    path = write_idx(tmp_path / _name(compress), np.zeros(10), compress=compress)
    with pytest.raises(ValueError, match=re.escape(
        f"IDX file {path} has magic number 0x00000801 (element type 0x08, 1 dimension(s)), "
        "expected 0x00000803"
    )):
        idx.read_idx(path, expected_magic=idx.IMAGES_MAGIC)


def test_truncated_payload(tmp_path, compress):
    raw = idx_bytes(np.zeros((3, 28, 28)))[:-1000]
    path = write_idx(tmp_path / _name(compress), raw=raw, compress=compress)
    with pytest.raises(ValueError, match=re.escape(
        f"IDX file {path} is truncated: header says 3×28×28 = 2,352 bytes of data, found 1,352."
    )):
        idx.read_idx(path)


def test_truncated_header(tmp_path, compress):
    raw = idx_bytes(np.zeros((3, 28, 28)))[:10]
    path = write_idx(tmp_path / _name(compress), raw=raw, compress=compress)
    with pytest.raises(ValueError, match=rf"{re.escape(path)} is truncated: its header needs 16 bytes .* found 10"):
        idx.read_idx(path)


def test_empty_file(tmp_path):
    path = write_idx(tmp_path / "empty", raw=b"", compress=False)
    with pytest.raises(ValueError, match=rf"{re.escape(path)} is truncated: 0 bytes"):
        idx.read_idx(path)


def test_trailing_bytes(tmp_path, compress):
    raw = idx_bytes(np.zeros((3, 4, 4))) + b"\x00" * 7
    path = write_idx(tmp_path / _name(compress), raw=raw, compress=compress)
    with pytest.raises(ValueError, match=rf"{re.escape(path)} is too long: header says 3×4×4 = 48 bytes of data, found 55"):
        idx.read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256))
    path = write_idx(tmp_path / "cut.gz", raw=data[: len(data) // 2], compress=False)
    with pytest.raises(ValueError, match=rf"IDX file {re.escape(path)} is a truncated gzip file"):
        idx.read_idx(path)


def test_corrupt_gzip_stream(tmp_path):
    data = bytearray(gzip.compress(idx_bytes(np.zeros((3, 28, 28)))))
    data[12:20] = b"\xff" * 8
    path = write_idx(tmp_path / "bad.gz", raw=bytes(data), compress=False)
    with pytest.raises(ValueError, match=rf"IDX file {re.escape(path)} is a (corrupt|truncated) gzip file"):
        idx.read_idx(path)


def test_count_mismatch_between_images_and_labels(tmp_path, compress):
    ipath = write_idx(tmp_path / _name(compress), np.zeros((5, 28, 28)), compress=compress)
    lpath = write_idx(tmp_path / ("y" + _name(compress)), np.zeros(4), compress=compress)
    with pytest.raises(ValueError, match=re.escape(
        f"IDX files disagree on the number of examples: {ipath} has 5 images, {lpath} has 4 labels."
    )):
        idx.read_idx_pair(ipath, lpath)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        idx.read_idx(tmp_path / "nothing")


# ------------------------------------ corrupt files met through load_arrays
def test_fashion_mnist_wrong_image_size_names_the_file(tmp_path):
    folder = fake_fashion_mnist(tmp_path / "fm", num_train=4, num_test=2, image_shape=(27, 28))
    path = os.path.join(folder, "train-images-idx3-ubyte.gz")
    with pytest.raises(ValueError, match=re.escape(f"IDX file {path} has images of 27×28 pixels")):
        sources.load_arrays("fashion_mnist", data_dir=folder)


def test_fashion_mnist_truncated_file_is_an_error_not_skipped(tmp_path):
    folder = fake_fashion_mnist(tmp_path / "fm", num_train=4, num_test=2)
    path = os.path.join(folder, "t10k-images-idx3-ubyte.gz")
    write_idx(path, raw=idx_bytes(np.zeros((2, 28, 28)))[:-5])
    with pytest.raises(ValueError, match=rf"IDX file {re.escape(path)} is truncated"):
        sources.load_arrays("fashion_mnist", data_dir=folder)


def test_fashion_mnist_label_out_of_range(tmp_path):
    folder = fake_fashion_mnist(tmp_path / "fm", num_train=4, num_test=2)
    path = os.path.join(folder, "train-labels-idx1-ubyte.gz")
    write_idx(path, np.array([0, 1, 2, 12]))
    with pytest.raises(ValueError, match=rf"IDX file {re.escape(path)} has label 12"):
        sources.load_arrays("fashion_mnist", data_dir=folder)

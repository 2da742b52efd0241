"""Each dataset loads with the right shapes, dtypes, counts and labels;
Fashion-MNIST is searched for in the documented order; errors say why."""

import os
import random
import re

import numpy as np
import pytest

from tests.training.idx_files import fake_fashion_mnist
from constrained_zoo.training.data import sources
from constrained_zoo.training.data.sources import DatasetNotFoundError, load_arrays

tfds = pytest.importorskip("tensorflow_datasets")


def check_arrays(arrays, shape, num_train, num_test, num_classes=10):
    (x_train, y_train), (x_test, y_test) = arrays
    assert x_train.shape == (num_train, *shape) and x_test.shape == (num_test, *shape)
    assert y_train.shape == (num_train,) and y_test.shape == (num_test,)
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int32
    for y in (y_train, y_test):
        assert y.min() >= 0 and y.max() < num_classes


@pytest.fixture(scope="module")
def fashion():
    """The real Fashion-MNIST, parsed once for the module."""
    if not os.path.isfile(os.path.join(sources.DEBIAN_DIR, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST IDX files not in {sources.DEBIAN_DIR} "
                    "(apt-get install dataset-fashion-mnist)")
    return load_arrays("fashion_mnist", data_dir=sources.DEBIAN_DIR, with_info=True)


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No Fashion-MNIST anywhere, and TFDS offline."""
    monkeypatch.delenv(sources.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setattr(sources, "DEBIAN_DIR", str(tmp_path / "debian"))
    monkeypatch.setattr(sources, "KERAS_CACHE_DIR", str(tmp_path / "keras"))

    def offline(*args, **kwargs):
        raise ConnectionError("Network is unreachable")

    monkeypatch.setattr(tfds, "load", offline)
    return tmp_path


# ------------------------------------------------------------- real data
def test_fashion_mnist(fashion):
    arrays, info = fashion
    check_arrays(arrays, (28, 28, 1), 60_000, 10_000)
    (x_train, y_train), (x_test, _) = arrays
    assert x_train.min() == 0 and x_train.max() == 1 and x_test.max() == 1
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    assert info.class_names[0] == "T-shirt/top" and len(info.class_names) == 10
    assert info.source == os.path.abspath(sources.DEBIAN_DIR)


def test_arrays_are_read_only_and_shared(fashion):
    (x_train, _), _ = load_arrays("fashion_mnist", data_dir=sources.DEBIAN_DIR)
    assert x_train is fashion[0][0][0]
    with pytest.raises(ValueError, match="read-only"):
        x_train[0, 0, 0, 0] = 1


def test_mnist1d_is_the_packages_own_generator():
    from mnist1d.data import get_dataset_args, make_dataset

    arrays, info = load_arrays("mnist1d", with_info=True)
    check_arrays(arrays, (40, 1), 4000, 1000)
    assert info.source == "generated"
    reference = make_dataset(get_dataset_args())  # seed 42
    np.testing.assert_array_equal(arrays[0][0][..., 0], reference["x"].astype(np.float32))
    np.testing.assert_array_equal(arrays[1][1], reference["y_test"])


def test_mnist1d_restores_the_global_random_state():
    np.random.seed(123)
    random.seed(123)
    expected = np.random.rand(), random.random()
    np.random.seed(123)
    random.seed(123)
    load_arrays("mnist1d", seed=7)  # a seed not cached yet: the generator runs
    assert (np.random.rand(), random.random()) == expected


def test_digits_split_is_fixed_and_stratified():
    arrays, info = load_arrays("digits", with_info=True)
    check_arrays(arrays, (8, 8, 1), 1437, 360)
    (x_train, y_train), (x_test, y_test) = arrays
    assert x_train.min() == 0 and x_train.max() == 1
    assert info.source == "scikit-learn"
    assert np.bincount(y_test).min() >= 35  # 10 classes × ~36
    ((again, _), _), _ = sources._digits.__wrapped__(sources.DIGITS_SPLIT_SEED)
    np.testing.assert_array_equal(again, x_train)  # same split, computed afresh
    (other, _), _ = load_arrays("digits", seed=1)
    assert not np.array_equal(other, x_train)


# ------------------------------------------------------ Fashion-MNIST search
def test_search_order_data_dir_then_env_then_debian_then_keras(tmp_path, nowhere, monkeypatch):
    places = {p: fake_fashion_mnist(tmp_path / p, num_train=10 + i, num_test=5, compress=i % 2 == 0)
              for i, p in enumerate(["arg", "env", "debian", "keras"])}
    monkeypatch.setenv(sources.FASHION_MNIST_ENV, places["env"])

    def source(data_dir=None):
        return load_arrays("fashion_mnist", data_dir=data_dir, with_info=True)[1].source

    assert source(places["arg"]) == places["arg"]
    assert source(tmp_path / "empty") == places["env"]
    monkeypatch.delenv(sources.FASHION_MNIST_ENV)
    assert source() == places["debian"]
    monkeypatch.setattr(sources, "DEBIAN_DIR", str(tmp_path / "gone"))
    assert source() == places["keras"]
    (x_train, _), _ = load_arrays("fashion_mnist")
    assert x_train.shape == (13, 28, 28, 1)


def test_missing_offline_lists_every_place_searched(tmp_path, nowhere, monkeypatch):
    partial = tmp_path / "partial"
    fake_fashion_mnist(partial, num_train=3, num_test=2)
    os.remove(partial / "t10k-labels-idx1-ubyte.gz")
    monkeypatch.setenv(sources.FASHION_MNIST_ENV, str(partial))
    with pytest.raises(DatasetNotFoundError) as error:
        load_arrays("fashion_mnist", data_dir=tmp_path / "empty")
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    for expected in [
        f"the `data_dir` argument: {tmp_path / 'empty'} (no such folder)",
        f"$FASHION_MNIST_DIR: {partial} (lacks t10k-labels-idx1-ubyte[.gz])",
        f"Debian's dataset-fashion-mnist: {tmp_path / 'debian'} (no such folder)",
        f"the Keras cache: {tmp_path / 'keras'} (no such folder)",
        "tfds.load(\"fashion_mnist\"",
        "ConnectionError: Network is unreachable",
        "apt-get install dataset-fashion-mnist",
        "connect to the network",
    ]:
        assert expected in message, f"{expected!r} not in:\n{message}"


def test_missing_env_var_is_reported_as_not_set(nowhere):
    with pytest.raises(DatasetNotFoundError, match=re.escape("$FASHION_MNIST_DIR: not set")):
        load_arrays("fashion_mnist")


def test_fashion_mnist_falls_back_to_tfds(nowhere, monkeypatch):
    monkeypatch.undo()  # the real tfds.load, mocked below
    monkeypatch.delenv(sources.FASHION_MNIST_ENV, raising=False)
    monkeypatch.setattr(sources, "DEBIAN_DIR", str(nowhere / "debian"))
    monkeypatch.setattr(sources, "KERAS_CACHE_DIR", str(nowhere / "keras"))
    with tfds.testing.mock_data(num_examples=12):
        arrays, info = load_arrays("fashion_mnist", with_info=True)
    check_arrays(arrays, (28, 28, 1), 12, 12)
    assert info.source == "tfds" and info.class_names[0] == "T-shirt/top"


# -------------------------------------------------------------------- TFDS
@pytest.mark.parametrize("name, shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_image_classification_under_mock_data(name, shape):
    with tfds.testing.mock_data(num_examples=20):
        arrays, info = load_arrays(name, with_info=True)
    check_arrays(arrays, shape, 20, 20)
    assert info.source == "tfds" and len(info.class_names) == 10
    assert 0 <= arrays[0][0].min() and arrays[0][0].max() <= 1


def test_tfds_offline_says_it_needs_the_network(nowhere):
    with pytest.raises(DatasetNotFoundError, match=r"Could not load TFDS dataset 'mnist'.*ConnectionError"):
        load_arrays("mnist")


@pytest.mark.parametrize("name", ["fashion-mnist", "no_such_dataset"])
def test_unknown_name_lists_the_names_that_exist(name):
    with pytest.raises(ValueError, match=re.escape(
        f"Unknown dataset. Received: name={name!r}. Expected one of "
        "['digits', 'fashion_mnist', 'mnist1d'] or a TFDS image-classification dataset "
        "(see `tfds.list_builders()`"
    )):
        load_arrays(name)


def test_tfds_name_that_is_not_image_classification():
    with pytest.raises(ValueError, match="not image classification"):
        load_arrays("imdb_reviews")


def test_list_datasets():
    assert sources.list_datasets() == ["digits", "fashion_mnist", "mnist1d"]
    with pytest.raises(TypeError, match="argument `name`"):
        load_arrays(None)

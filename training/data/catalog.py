"""The datasets known by name, what loading one returns besides its arrays, and the errors.

A leaf module: `sources` (our datasets) and `tfds` (any other name) both
read it, and neither needs the other to do so.
"""

import collections

import numpy as np

#: The datasets this module knows by name; any other name goes to TFDS.
NAMED_DATASETS = {
    "digits": "scikit-learn's 8×8 handwritten digits, 1,437 train / 360 test (shipped)",
    "fashion_mnist": "Fashion-MNIST, 28×28 grayscale, 60,000 train / 10,000 test (the default)",
    "mnist1d": "MNIST-1D (Greydanus 2020), length-40 sequences, 4,000 train / 1,000 test (generated)",
}

#: What `load_arrays(..., with_info=True)` says besides the arrays.
SourceInfo = collections.namedtuple("SourceInfo", ["class_names", "source"])


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable from here."""


def list_datasets():
    """The names `load_arrays` knows without TFDS, sorted.

    Returns:
        A list of names, e.g. `['digits', 'fashion_mnist', 'mnist1d']`. Any
        TFDS image-classification name (`tfds.list_builders()`) works too.

    Example:

    >>> list_datasets()
    ['digits', 'fashion_mnist', 'mnist1d']
    """
    return sorted(NAMED_DATASETS)


def unknown_name(name, detail):
    return ValueError(
        f"Unknown dataset. Received: name={name!r}. Expected one of "
        f"{list_datasets()} or a TFDS image-classification dataset "
        f"(see `tfds.list_builders()`, e.g. 'mnist', 'cifar10'); {detail}."
    )


def frozen(array):
    """`array` contiguous and read-only (the loaded datasets are shared for the life of the process)."""
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array

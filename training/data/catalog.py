"""The datasets known by name, what loading one returns besides its arrays, and the errors.

A leaf module: `sources` (our datasets) and `tfds` (any other name) both
read it, and neither needs the other to do so. The facts of the datasets
known by name are the zoo's one table, `constrained_zoo.datasets`.
"""

import collections

import numpy as np

from constrained_zoo.datasets import dataset_info, list_datasets

#: The datasets known by name, each with its one-line summary (`DatasetInfo.summary`); any other name goes to TFDS.
NAMED_DATASETS = {name: dataset_info(name).summary for name in list_datasets()}

#: What `load_arrays(..., with_info=True)` says besides the arrays.
SourceInfo = collections.namedtuple("SourceInfo", ["class_names", "source"])


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable from here."""


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

"""Data: where each dataset comes from, and the `tf.data` pipelines that feed a run.

- `sources`: `load_arrays(name)`, the numpy arrays of `fashion_mnist` (the
  IDX files, parsed by `idx`), `mnist1d` (generated), `digits`
  (scikit-learn) or any TFDS image-classification name (`tfds`).
- `variants`: what a recipe does to them (pixel shuffle, test-time shift,
  random translations and flips).
- `pipeline`: `load_dataset(name, ...)`, batched train/validation/test
  pipelines and a `DatasetSpec`; `python -m training.data` measures them.
"""

from .pipeline import DatasetSpec, Splits, load_dataset, measure_throughput
from .sources import DATASETS, DatasetNotFoundError, check_data_dir, check_dataset, list_datasets, load_arrays

__all__ = [
    "DATASETS",
    "DatasetNotFoundError",
    "DatasetSpec",
    "Splits",
    "check_data_dir",
    "check_dataset",
    "list_datasets",
    "load_arrays",
    "load_dataset",
    "measure_throughput",
]

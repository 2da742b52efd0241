"""Data: where each dataset comes from, and the `tf.data` pipelines that feed a run.

- `sources`: `load_arrays(name)`, the numpy arrays of `fashion_mnist` (the
  IDX files, parsed by `idx`), `mnist1d` (generated), `digits`
  (scikit-learn) or any TFDS image-classification name (`tfds`).
- `variants`: what a recipe does to them (pixel shuffle, test-time shift,
  random translations and flips).
- `split`: `SplitSettings`, the settings that fix a run's train, validation
  and test examples (dataset, validation fraction, cap, seed, pixel
  shuffle, test-time shift), from the command to the pipeline, evaluation,
  publishing and a teacher.
- `pipeline`: `load_dataset(split, ...)`, batched train/validation/test
  pipelines and a `DatasetSpec`; `throughput` (`python -m constrained_zoo.training.data`)
  measures them.
"""

from .sources import NAMED_DATASETS, DatasetNotFoundError, check_data_dir, check_dataset, list_datasets, load_arrays
from .split import SplitSettings

_PIPELINE = ("DatasetSpec", "Splits", "load_dataset", "measure_throughput")


def __getattr__(name):  # the pipeline imports TensorFlow: only when asked for (gpu_check runs without it)
    if name in _PIPELINE:
        from . import pipeline, throughput  # pylint: disable=import-outside-toplevel

        return getattr(throughput if name == "measure_throughput" else pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "NAMED_DATASETS",
    "DatasetNotFoundError",
    "DatasetSpec",
    "SplitSettings",
    "Splits",
    "check_data_dir",
    "check_dataset",
    "list_datasets",
    "load_arrays",
    "load_dataset",
    "measure_throughput",
]

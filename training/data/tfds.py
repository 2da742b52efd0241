"""TFDS image-classification datasets as numpy arrays (any name TFDS knows that is not ours).

`tfds.load` downloads a dataset on first use where the network allows and
reads TFDS's own files after that. Images come back float32 in [0, 1].
"""

import numpy as np

from .catalog import DatasetNotFoundError, SourceInfo, frozen, unknown_name

def tfds_builder(name, data_dir):
    """(builder, supervised keys, features) of a TFDS image-classification dataset."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except ValueError as e:  # tfds.core.DatasetNotFoundError, or a malformed name
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(".")
        raise unknown_name(name, f"TFDS does not know it either: {first_line}") from None
    keys = builder.info.supervised_keys
    features = builder.info.features
    if not (
        isinstance(keys, tuple) and len(keys) == 2
        and isinstance(features[keys[0]], tfds.features.Image)
        and isinstance(features[keys[1]], tfds.features.ClassLabel)
    ):
        raise unknown_name(
            name, f"TFDS has it, but it is not image classification (supervised keys: {keys})"
        )
    return builder, keys, features


def load_tfds(name, data_dir):
    import tensorflow_datasets as tfds

    _, keys, features = tfds_builder(name, data_dir)
    image_shape = tuple(features[keys[0]].shape)
    if None in image_shape:
        raise ValueError(
            f"TFDS dataset {name!r} has images of varying size {image_shape}; "
            f"only fixed-size images can be batched here. Received: name={name!r}"
        )
    try:
        train, test = tfds.load(name, split=["train", "test"], as_supervised=True, data_dir=data_dir)
    except Exception as e:
        raise DatasetNotFoundError(
            f"Could not load TFDS dataset {name!r} (data_dir={data_dir!r}): "
            f"{type(e).__name__}: {e}\nTFDS downloads a dataset on first use, "
            "which needs the network; once downloaded it loads offline."
        ) from e
    arrays = tuple(_tfds_to_numpy(split, features[keys[0]].np_dtype) for split in (train, test))
    return arrays, SourceInfo(tuple(features[keys[1]].names), "tfds")


def _tfds_to_numpy(dataset, dtype):
    import tensorflow_datasets as tfds

    xs, ys = [], []
    for x, y in tfds.as_numpy(dataset.batch(8192)):  # (B, H, W, C), (B,)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.int32)
    scale = np.float32(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else np.float32(1)
    return frozen(x.astype(np.float32) / scale), frozen(y)

"""Published weights: `create_model(name, weights="fashion_mnist")`, as Keras's `weights=`.

One file per (model, weights name), `<root>/<dataset>/<model>.weights.h5`,
and one `<root>/manifest.json` that lists, for each, how it was made and what
it scores. A weights name is the dataset (`"fashion_mnist"`: the recipe of
the README's table for that dataset) or, as timm's pretrained tags, the
dataset and a tag for another recipe (`"fashion_mnist.frontier"`, file
`<root>/fashion_mnist/<model>.frontier.weights.h5`, entry `"tag": "frontier"`):

    {"format": 1, "weights": [{"model": "cnn_bn_50k", "dataset": "fashion_mnist",
      "file": "fashion_mnist/cnn_bn_50k.weights.h5", "sha256": "...", "bytes": 201712,
      "seed": 0, "command": "python -m training.train ...", "commit": "...",
      "test_accuracy": 0.9234, "test_correct": 9234, "num_test": 10000,
      "validation_accuracy": 0.93, "overrides": {}, "input_shape": [28, 28, 1],
      "num_classes": 10, "params": 45594, "trainable_params": 45274,
      "evaluation": {"batch_size": 128, "validation_fraction": 0.1, ...}}, ...]}

The root is the package's `models/weights/` (installed with it), or the
directory named by the environment variable `ZOO_WEIGHTS_DIR` (tests and
publishing dry runs use it so that nothing is written into the package).
`python -m training.publish RUN_DIR` writes both; this module only reads.
"""

import hashlib
import json
import math
import os

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
PACKAGE_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: The datasets weights are published for (the README's tables).
DATASETS = ("fashion_mnist", "mnist1d")


class WeightsError(ValueError):
    """Published weights that cannot be loaded, said plainly (a `ValueError`)."""


def weights_dir(root=None):
    """The weights root: `root`, else `$ZOO_WEIGHTS_DIR`, else the package's `models/weights`.

    Example:

    >>> weights_dir("/tmp/w")
    '/tmp/w'
    """
    return os.fspath(root) if root is not None else os.environ.get(WEIGHTS_DIR_ENV) or PACKAGE_WEIGHTS_DIR


def manifest_path(root=None):
    return os.path.join(weights_dir(root), MANIFEST)


def read_manifest(root=None):
    """The manifest as a dict (`{"format": 1, "weights": []}` when there is none)."""
    path = manifest_path(root)
    if not os.path.exists(path):
        return {"format": MANIFEST_FORMAT, "weights": []}
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("weights"), list):
        raise WeightsError(f"{path} is not a weights manifest (expected an object with a 'weights' list).")
    return manifest


def weights_name(record):
    """An entry's weights name, what `weights=` takes: its dataset, then `.tag` if it has a tag.

    Example:

    >>> weights_name({"dataset": "fashion_mnist", "tag": "frontier"})
    'fashion_mnist.frontier'
    """
    return record["dataset"] + (f".{record['tag']}" if record.get("tag") else "")


def published_weights(weights=None, root=None):
    """The manifest's entries (dicts), sorted by (dataset, tag, model); only those named `weights` if given.

    `weights` is a weights name: `"fashion_mnist"` lists the weights of the
    README's Fashion-MNIST table, `"fashion_mnist.frontier"` those of that tag.

    Example:

    >>> [(w["model"], w["test_accuracy"]) for w in published_weights("fashion_mnist")]
    [('cnn_bn_50k', 0.9234), ...]
    """
    entries = [w for w in read_manifest(root)["weights"] if weights is None or weights_name(w) == weights]
    return sorted(entries, key=lambda w: (w["dataset"], w.get("tag") or "", w["model"]))


def weights_file(model, dataset, root=None, tag=None):
    """Where the weights of (`model`, `dataset`, `tag`) live: `<root>/<dataset>/<model>[.<tag>].weights.h5`."""
    return os.path.join(weights_dir(root), dataset, f"{model}{f'.{tag}' if tag else ''}.weights.h5")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_published(name, dataset, root=None):
    """The manifest entry of model `name` with weights name `dataset`; a `WeightsError` naming what is wrong."""
    entries = published_weights(root=root)
    known = sorted(set(DATASETS) | {weights_name(w) for w in entries})
    if not isinstance(dataset, str) or dataset not in known:
        raise WeightsError(
            f"Unknown weights for argument `weights`: {dataset!r}. Weights are published under "
            f"{', '.join(map(repr, known))}; weights=None is random initialization."
        )
    for w in entries:
        if w["model"] == name and weights_name(w) == dataset:
            return w
    others = [w["model"] for w in entries if weights_name(w) == dataset]
    raise WeightsError(
        f"No published weights {dataset!r} for model {name!r} (argument `weights`). "
        f"Published as {dataset!r}: {', '.join(others) if others else 'none yet'} "
        f"(manifest: {manifest_path(root)})."
    )


def load_published(entry, dataset, input_shape=None, num_classes=None, overrides=None, root=None):
    """Builds `entry`'s model as the weights were trained and loads them, checked.

    Args:
        entry: the model's `ModelEntry`.
        dataset: the dataset the weights were trained on.
        input_shape, num_classes: None, or the weights' own (anything else
            is an error).
        overrides: None/{} or the weights' own overrides.
        root: the weights root (default: `weights_dir()`).

    Raises:
        WeightsError: unknown dataset, no weights for the pair, another
            input shape, class count or overrides than the weights', a
            missing or corrupted file (sha256), or another architecture.
    """
    from ._registry import create_model

    record = find_published(entry.name, dataset, root)
    label = f"weights {dataset!r} of {entry.name!r}"
    trained_shape = tuple(record["input_shape"])
    if input_shape is not None and tuple(input_shape) != trained_shape:
        raise WeightsError(
            f"The {label} take input_shape={trained_shape}. Received: input_shape={tuple(input_shape)}. "
            f"Pass weights=None to build the model for another input."
        )
    if num_classes is not None and num_classes != record["num_classes"]:
        raise WeightsError(
            f"The {label} have num_classes={record['num_classes']}. Received: num_classes={num_classes!r}. "
            f"Pass weights=None to build the model for another number of classes."
        )
    trained_overrides = record.get("overrides") or {}
    different = {k: v for k, v in (overrides or {}).items() if trained_overrides.get(k) != v}
    if different:
        raise WeightsError(
            f"The {label} were trained with overrides {trained_overrides}; received "
            f"{', '.join(f'{k}={v!r}' for k, v in different.items())}. Pass weights=None for another configuration."
        )
    path = os.path.join(weights_dir(root), record["file"])
    if not os.path.isfile(path):
        raise WeightsError(f"The {label} are listed in the manifest but their file {path} is missing.")
    size, digest = os.path.getsize(path), sha256_of(path)
    if digest != record["sha256"] or size != record["bytes"]:
        raise WeightsError(
            f"The {label} are corrupted: {path} has sha256 {digest} ({size:,} bytes); the manifest says "
            f"{record['sha256']} ({record['bytes']:,} bytes). Reinstall the package or re-publish the weights."
        )
    model = create_model(entry.name, input_shape=trained_shape, num_classes=record["num_classes"], **trained_overrides)
    params = int(model.count_params())
    trainable = int(sum(math.prod(w.shape) for w in model.trainable_weights))
    if (params, trainable) != (record["params"], record["trainable_params"]):
        raise WeightsError(
            f"Architecture mismatch for the {label}: the code builds {params:,} parameters "
            f"({trainable:,} trainable), the weights were trained with {record['params']:,} "
            f"({record['trainable_params']:,} trainable). The model's definition changed since they were published."
        )
    stored, expected = _file_shapes(path), sorted(tuple(w.shape) for w in model.weights)
    if stored != expected:
        raise WeightsError(
            f"Architecture mismatch for the {label}: {path} holds weights of shapes {stored}, the model "
            f"has {expected}."
        )
    try:
        model.load_weights(path)
    except Exception as error:  # Keras says which variable did not fit
        raise WeightsError(f"Architecture mismatch for the {label} ({path}): {error}") from None
    return model


def _file_shapes(path):
    """The sorted shapes of every array in a `.weights.h5` file (Keras warns, not fails, on a misfit)."""
    import h5py

    shapes = []
    with h5py.File(path, "r") as f:
        f.visititems(lambda _, item: shapes.append(tuple(item.shape)) if isinstance(item, h5py.Dataset) else None)
    return sorted(shapes)

"""Published weights: the manifest, its files, and checked loading into a built model.

Users call `models.create_model(name, weights="fashion_mnist")`; this module
is what it uses, and what a publisher or an evaluator needs besides.

One file per (model, weights name), `<root>/<dataset>/<model>.weights.h5`,
and one `<root>/manifest.json` that lists, for each, how it was made and what
it scores. A weights name is the dataset (`"fashion_mnist"`: the recipe of
the README's table for that dataset) or, as timm's pretrained tags, the
dataset and a tag for another recipe (`"fashion_mnist.frontier"`, file
`<root>/fashion_mnist/<model>.frontier.weights.h5`, entry `"tag": "frontier"`):

    {"format": 1, "weights": [{"model": "cnn_bn_50k", "dataset": "fashion_mnist",
      "file": "fashion_mnist/cnn_bn_50k.weights.h5", "sha256": "...", "architecture": "3f0c...",
      "command": "python -m constrained_zoo.training.train ...", "test_accuracy": 0.9234, ...}, ...]}

`"architecture"` is the `architecture_fingerprint` of the model the weights
were trained in; entries written before it existed lack it and are checked
by parameter counts and weight shapes only.

The root is the package's `models/weights/`, or `$ZOO_WEIGHTS_DIR` (tests and
publishing dry runs use it so that nothing is written into the package).

Reading: `published_weights`, `find_published`, `read_manifest`. Loading
(what `create_model` does): `build_arguments` says what to build for an
entry, `load_into` checks the built model and the file against the entry and
loads it. It builds no model (it never imports the registry); writing is
`models.manifest`'s, the fingerprint `models.architecture`'s.
"""

import hashlib
import json
import os

from .architecture import architecture_config, architecture_fingerprint, trainable_params
from .datasets import list_datasets

__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "PACKAGE_WEIGHTS_DIR",
    "PUBLISHED_DATASETS",
    "WEIGHTS_DIR_ENV",
    "WeightsError",
    "architecture_config",
    "architecture_fingerprint",
    "build_arguments",
    "find_published",
    "load_into",
    "manifest_path",
    "published_weights",
    "read_manifest",
    "sha256_of",
    "weights_dir",
    "weights_name",
]

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
PACKAGE_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
#: The manifest's file name in the weights root.
MANIFEST = "manifest.json"
#: The manifest's format number, its `"format"` field.
MANIFEST_FORMAT = 1
#: The datasets weights are published for (the README's tables): `DatasetInfo.published`.
PUBLISHED_DATASETS = tuple(list_datasets(published=True))
#: Hex digits of `architecture_fingerprint` (64 bits).


class WeightsError(ValueError):
    """Published weights that cannot be loaded, said plainly (a `ValueError`)."""


# ------------------------------------------------------------------ where
def weights_dir(root=None):
    """The weights root: `root`, else `$ZOO_WEIGHTS_DIR`, else the package's `models/weights`.

    Example:

    >>> weights_dir("/tmp/w")
    '/tmp/w'
    """
    return os.fspath(root) if root is not None else os.environ.get(WEIGHTS_DIR_ENV) or PACKAGE_WEIGHTS_DIR


def manifest_path(root=None):
    """The manifest's path: `<root>/manifest.json` (root as `weights_dir`).

    Example:

    >>> manifest_path("/tmp/w")
    '/tmp/w/manifest.json'
    """
    return os.path.join(weights_dir(root), MANIFEST)


def sha256_of(path):
    """The hex sha256 of the file at `path`, read in 1 MiB blocks.

    Example:

    >>> sha256_of("empty.txt")
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- reading
def read_manifest(root=None):
    """The manifest as a dict (`{"format": 1, "weights": []}` when there is none).

    Raises:
        WeightsError: the file is not a manifest (no "weights" list).

    Example:

    >>> len(read_manifest()["weights"]) > 0
    True
    """
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


def _entry_order(record):
    return (record["dataset"], record.get("tag") or "", record["model"])


def published_weights(weights=None, root=None):
    """The manifest's entries (dicts), sorted by (dataset, tag, model); only those named `weights` if given.

    `weights` is a weights name: `"fashion_mnist"` lists the weights of the
    README's Fashion-MNIST table, `"fashion_mnist.frontier"` those of that tag.

    Example:

    >>> [(w["model"], w["test_accuracy"]) for w in published_weights("fashion_mnist")]
    [('cnn_bn_50k', 0.9234), ...]
    """
    entries = [w for w in read_manifest(root)["weights"] if weights is None or weights_name(w) == weights]
    return sorted(entries, key=_entry_order)


def find_published(name, weights, root=None):
    """The manifest entry of model `name` with weights name `weights`.

    Raises:
        WeightsError: an unknown weights name (the message lists the known
            ones), or none published under it for `name` (the message lists
            the models that are).

    Example:

    >>> find_published("cnn_bn_50k", "fashion_mnist")["file"]
    'fashion_mnist/cnn_bn_50k.weights.h5'
    """
    entries = published_weights(root=root)
    known = sorted(set(PUBLISHED_DATASETS) | {weights_name(w) for w in entries})
    if not isinstance(weights, str) or weights not in known:
        raise WeightsError(
            f"Unknown weights for argument `weights`: {weights!r}. Weights are published under "
            f"{', '.join(map(repr, known))}; weights=None is random initialization."
        )
    for w in entries:
        if w["model"] == name and weights_name(w) == weights:
            return w
    others = [w["model"] for w in entries if weights_name(w) == weights]
    raise WeightsError(
        f"No published weights {weights!r} for model {name!r} (argument `weights`). "
        f"Published as {weights!r}: {', '.join(others) if others else 'none yet'} "
        f"(manifest: {manifest_path(root)})."
    )


# ------------------------------------------------------------ architecture
# ---------------------------------------------------------------- loading
def _label(record):
    return f"weights {weights_name(record)!r} of {record['model']!r}"


def _listed(overrides):
    return ", ".join(f"{k}={v!r}" for k, v in overrides.items())


def build_arguments(record, input_shape=None, num_classes=None, overrides=None):
    """What to build for a manifest entry: `create_model(record["model"], **build_arguments(record, ...))`.

    Args:
        record: the manifest entry (`find_published`).
        input_shape, num_classes: None, or the weights' own (anything else
            is an error).
        overrides: the caller's overrides (None dropped). With an entry that
            has an `"architecture"`, they are applied over the weights' own
            and `load_into` compares the fingerprints (so an override equal
            to its default is accepted); with an older entry, each must equal
            the weights' own.

    Returns:
        A dict: `input_shape`, `num_classes` and the overrides to build with.

    Raises:
        WeightsError: another input shape or class count than the weights',
            or, for an entry without `"architecture"`, another override.

    Example:

    >>> build_arguments({"model": "m", "dataset": "d", "input_shape": [8, 8, 1], "num_classes": 10,
    ...                  "overrides": {"width": 2}})
    {'input_shape': (8, 8, 1), 'num_classes': 10, 'width': 2}
    """
    trained_shape = tuple(record["input_shape"])
    if input_shape is not None and tuple(input_shape) != trained_shape:
        raise WeightsError(
            f"The {_label(record)} take input_shape={trained_shape}. Received: input_shape={tuple(input_shape)}. "
            f"Pass weights=None to build the model for another input."
        )
    if num_classes is not None and num_classes != record["num_classes"]:
        raise WeightsError(
            f"The {_label(record)} have num_classes={record['num_classes']}. Received: num_classes={num_classes!r}. "
            f"Pass weights=None to build the model for another number of classes."
        )
    trained = dict(record.get("overrides") or {})
    requested = {k: v for k, v in (overrides or {}).items() if v is not None}
    different = {k: v for k, v in requested.items() if k not in trained or trained[k] != v}
    if different and not record.get("architecture"):
        raise WeightsError(
            f"The {_label(record)} were trained with overrides {trained}; received {_listed(different)}. "
            f"Pass weights=None for another configuration."
        )
    return {"input_shape": trained_shape, "num_classes": record["num_classes"], **trained, **requested}


def load_into(model, record, root=None, overrides=None):
    """Checks that `record`'s weights fit `model` and loads them into it.

    Args:
        model: the model built with `build_arguments(record, ...)`.
        record: its manifest entry (`find_published`).
        root: the weights root (default: `weights_dir()`).
        overrides: the caller's overrides, only to name them in an error.

    Returns:
        `model`, with the weights loaded.

    Raises:
        WeightsError: a missing or corrupted file (sha256 and size), other
            parameter counts, another architecture fingerprint than the
            entry's (even if every shape matches; entries without one are not
            checked for it), or a file whose weights' shapes are not the
            model's.

    Example:

    >>> entry = find_published("cnn_tiny", "digits", root="/tmp/w")
    >>> load_into(models.create_model("cnn_tiny", **build_arguments(entry)), entry, root="/tmp/w").name
    'cnn_tiny'
    """
    label = _label(record)
    path = os.path.join(weights_dir(root), record["file"])
    if not os.path.isfile(path):
        raise WeightsError(f"The {label} are listed in the manifest but their file {path} is missing.")
    size, digest = os.path.getsize(path), sha256_of(path)
    if digest != record["sha256"] or size != record["bytes"]:
        raise WeightsError(
            f"The {label} are corrupted: {path} has sha256 {digest} ({size:,} bytes); the manifest says "
            f"{record['sha256']} ({record['bytes']:,} bytes). Reinstall the package or re-publish the weights."
        )
    trained = dict(record.get("overrides") or {})
    requested = {k: v for k, v in (overrides or {}).items() if v is not None and trained.get(k, object()) != v}
    params, trainable = int(model.count_params()), trainable_params(model)
    if (params, trainable) != (record["params"], record["trainable_params"]):
        built = f"the code builds {params:,} parameters ({trainable:,} trainable)"
        published = f"{record['params']:,} ({record['trainable_params']:,} trainable)"
        if requested:
            raise WeightsError(
                f"Architecture mismatch for the {label}: with {_listed(requested)} {built}; the weights were "
                f"trained with {published} and overrides {trained}. Pass weights=None for another configuration."
            )
        raise WeightsError(
            f"Architecture mismatch for the {label}: {built}, the weights were trained with {published}. "
            f"The model's definition changed since they were published."
        )
    expected = record.get("architecture")
    if expected:
        built = architecture_fingerprint(model)
        if built != expected:
            if requested:
                raise WeightsError(
                    f"Architecture mismatch for the {label}: they were trained with overrides {trained}; "
                    f"received {_listed(requested)}, which builds another architecture (fingerprint {built}, "
                    f"the weights' {expected}). Pass weights=None for another configuration."
                )
            raise WeightsError(
                f"Architecture mismatch for the {label}: the code builds architecture {built}, the weights "
                f"were trained in {expected} (manifest field `architecture`). The model's definition "
                f"changed since they were published."
            )
    stored, shapes = _file_shapes(path), sorted(tuple(w.shape) for w in model.weights)
    if stored != shapes:
        raise WeightsError(
            f"Architecture mismatch for the {label}: {path} holds weights of shapes {stored}, the model "
            f"has {shapes}."
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


# ---------------------------------------------------------------- writing

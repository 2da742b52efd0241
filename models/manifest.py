"""The weights manifest: where it lives, its format, its files' names, reading it and writing it.

One `<root>/manifest.json` lists every published weights file and, for
each, how it was made and what it scores. A file is named by its content,
`<dataset>/<model>[.<tag>]-<sha256[:12]>.weights.h5` (`weights_file`), so a
new file never replaces the one the manifest names. A weights name is the
dataset (`"fashion_mnist"`: the recipe of the README's table for that
dataset) or, as timm's pretrained tags, the dataset and a tag for another
recipe (`"fashion_mnist.frontier"`, entry `"tag": "frontier"`):

    {"format": 1, "weights": [{"model": "cnn_bn_50k", "dataset": "fashion_mnist",
      "file": "fashion_mnist/cnn_bn_50k-<sha256[:12]>.weights.h5", "sha256": "...",
      "architecture": "3f0c...", "command": "python -m constrained_zoo.training.train ...",
      "test_accuracy": 0.9234, ...}, ...]}

`"architecture"` is the `architecture_fingerprint` of the model the weights
were trained in; entries written before it existed lack it and are checked
by parameter counts and weight shapes only.

The root is the package's `models/weights/`, or `$ZOO_WEIGHTS_DIR` (tests and
publishing dry runs use it so that nothing is written into the package).

This module is the manifest's only reader and writer: `models.weights`
loads what it finds into a built model; `training.publishing` publishes
(it swaps file and manifest together under a lock, through
`updated_manifest` and `write_manifest`).
"""

import hashlib
import json
import os

from constrained_zoo.atomic import write_json

from .architecture import architecture_fingerprint, trainable_params
from .datasets import list_datasets

WEIGHTS_DIR_ENV = "ZOO_WEIGHTS_DIR"
PACKAGE_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
#: The manifest's file name in the weights root.
MANIFEST = "manifest.json"
#: The manifest's format number, its `"format"` field.
MANIFEST_FORMAT = 1
#: The datasets weights are published for (the README's tables): `DatasetInfo.published`.
PUBLISHED_DATASETS = tuple(list_datasets(published=True))
#: Every published weights file's name ends so (Keras's `save_weights` requires it).
SUFFIX = ".weights.h5"


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


def weights_file(model, dataset, sha256, tag=None):
    """The one name of a published weights file, relative to the weights root, named by its content.

    `<dataset>/<model>[.<tag>]-<sha256[:12]>.weights.h5`: a new file never
    replaces the one a manifest names (the publisher swaps them safely).
    A file loads as its entry's `"file"` names it.

    Example:

    >>> weights_file("cnn_bn_50k", "fashion_mnist", "32d8277f46f0" + "0" * 52, tag="frontier")
    'fashion_mnist/cnn_bn_50k.frontier-32d8277f46f0.weights.h5'
    """
    return os.path.join(dataset, f"{model}{f'.{tag}' if tag else ''}-{sha256[:12]}{SUFFIX}")


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

    >>> find_published("cnn_bn_50k", "fashion_mnist.frontier")["file"]
    'fashion_mnist/cnn_bn_50k.frontier-a97d89ebf87e.weights.h5'
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


# ---------------------------------------------------------------- writing
def manifest_entry(model, name, dataset, tag=None, overrides=None, saved=None):
    """The fields of a manifest entry that describe `model` and its weights file.

    A publisher adds its own (seed, command, commit, scores, ...) and files
    the entry with `updated_manifest`.

    Args:
        model: the built model whose weights are published.
        name: its registered name.
        dataset: the dataset it was trained on.
        tag: None, or the recipe's tag (weights name `dataset.tag`).
        overrides: the overrides it was built with (`create_model`'s).
        saved: the path of the saved weights to hash (the file, or a
            temporary copy about to be installed); None leaves out `"file"`,
            `"sha256"` and `"bytes"`.

    Returns:
        A dict: `model`, `dataset`, `tag` (if any), `overrides`,
        `input_shape`, `num_classes`, `params`, `trainable_params`,
        `architecture` and, with `saved`, `file` (`weights_file`, relative to
        the weights root), `sha256` and `bytes`.

    Example:

    >>> manifest_entry(models.create_model("cnn_tiny", input_shape=(8, 8, 1)), "cnn_tiny", "digits")["params"]
    666
    """
    entry = {
        "model": name,
        "dataset": dataset,
        **({"tag": tag} if tag else {}),
        "overrides": dict(overrides or {}),
        "input_shape": [int(n) for n in model.input_shape[1:]],
        "num_classes": int(model.output_shape[-1]),
        "params": int(model.count_params()),
        "trainable_params": trainable_params(model),
        "architecture": architecture_fingerprint(model),
    }
    if saved is not None:
        entry["sha256"], entry["bytes"] = sha256_of(saved), os.path.getsize(saved)
        entry["file"] = weights_file(name, dataset, entry["sha256"], tag)
    return entry


def updated_manifest(manifest, entry):
    """`manifest` with `entry` filed: it replaces the entry of the same model and weights name.

    Returns a new dict (the format set to `MANIFEST_FORMAT`, the entries
    sorted by dataset, tag and model); `manifest` is left as it was.

    Example:

    >>> m = updated_manifest({"weights": []}, {"model": "cnn_tiny", "dataset": "digits"})
    >>> [weights_name(w) for w in updated_manifest(m, {"model": "cnn_tiny", "dataset": "digits", "tag": "x"})["weights"]]
    ['digits', 'digits.x']
    """
    key = (entry["model"], weights_name(entry))
    kept = [w for w in manifest.get("weights", []) if (w["model"], weights_name(w)) != key]
    return {**manifest, "format": MANIFEST_FORMAT, "weights": sorted([*kept, entry], key=_entry_order)}


def write_manifest(manifest, root=None):
    """Writes `manifest` to `manifest_path(root)` atomically; returns the path.

    Indented by 2, keys sorted, a final newline; NaN and infinities as null
    (`constrained_zoo.atomic.write_json`). A reader sees the old manifest or
    the new one, never half of one. Concurrent writers must hold a lock
    around their read-update-write (the publisher does).

    Example:

    >>> write_manifest(updated_manifest(read_manifest("/tmp/w"), entry), "/tmp/w")
    '/tmp/w/manifest.json'
    """
    path = manifest_path(root)
    write_json(path, manifest)
    return path

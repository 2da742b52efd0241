"""Writing the weights manifest: an entry for a saved file, an entry filed, the manifest written atomically.

`python -m constrained_zoo.training.publish` writes through these (and swaps file and
manifest together); `models.weights` only reads.
"""

import json
import math
import os
import tempfile

from .architecture import architecture_fingerprint, trainable_params
from .weights import (MANIFEST, MANIFEST_FORMAT, _entry_order, manifest_path, sha256_of,
                      weights_name)

#: Every published weights file's name ends so (Keras's `save_weights` requires it).
SUFFIX = ".weights.h5"


def weights_file(model, dataset, sha256, tag=None):
    """The one name of a published weights file, relative to the weights root, named by its content.

    `<dataset>/<model>[.<tag>]-<sha256[:12]>.weights.h5`: a new file never
    replaces the one a manifest names (the publisher swaps them safely).
    Files published under older names load as their manifest names them.

    Example:

    >>> weights_file("cnn_bn_50k", "fashion_mnist", "32d8277f46f0" + "0" * 52, tag="frontier")
    'fashion_mnist/cnn_bn_50k.frontier-32d8277f46f0.weights.h5'
    """
    return os.path.join(dataset, f"{model}{f'.{tag}' if tag else ''}-{sha256[:12]}{SUFFIX}")


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


def _json_safe(data):
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _json_safe(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_json_safe(v) for v in data]
    return data


def write_manifest(manifest, root=None):
    """Writes `manifest` to `manifest_path(root)` atomically; returns the path.

    Indented by 2, keys sorted, a final newline; NaN and infinities as null.
    The text goes to a temporary file beside it, flushed to disk, then
    renamed over it: a reader sees the old manifest or the new one, never
    half of one. Concurrent writers must hold a lock around their
    read-update-write (the publisher does).

    Example:

    >>> write_manifest(updated_manifest(read_manifest("/tmp/w"), entry), "/tmp/w")
    '/tmp/w/manifest.json'
    """
    path = manifest_path(root)
    text = json.dumps(_json_safe(manifest), indent=2, sort_keys=True, allow_nan=False) + "\n"
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{MANIFEST}.", suffix=".tmp", dir=directory)
    os.close(fd)
    os.remove(tmp)  # created again below, with the usual permissions (mkstemp's are owner-only)
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path

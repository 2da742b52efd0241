"""Published weights loaded into a built model, checked first: what `create_model(name, weights=...)` does.

Users call `models.create_model(name, weights="fashion_mnist")`; this module
is what it uses, and what an evaluator needs besides. `build_arguments` says
what to build for a manifest entry, `load_into` checks the built model and
the file against the entry (sha256, parameter counts, the architecture
fingerprint, the shapes) and loads it. It builds no model (it never imports
the registry).

The manifest itself (where it is, its format, its files' names, reading and
writing it) is `models.manifest`'s; this module offers its reading functions
too, so that `models.weights` is the one public module of published
weights. The fingerprint is `models.architecture`'s.
"""

import os

from .architecture import architecture_config, architecture_fingerprint, trainable_params
from .manifest import (
    MANIFEST,
    MANIFEST_FORMAT,
    PACKAGE_WEIGHTS_DIR,
    PUBLISHED_DATASETS,
    WEIGHTS_DIR_ENV,
    WeightsError,
    find_published,
    manifest_path,
    published_weights,
    read_manifest,
    sha256_of,
    weights_dir,
    weights_name,
)

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

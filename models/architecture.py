"""A model's architecture as data, its fingerprint (what published weights were trained in), and its counts.

`architecture_fingerprint(model)` hashes the model's config with everything
that differs between two builds of one architecture left out (layer names,
dtypes); `models.weights` compares it with the manifest's `"architecture"`
before it loads a file, so weights never load into another architecture,
even one whose every shape matches.

Counts: every table counts every weight a model holds (Keras's
`count_params`, BatchNorm's moving statistics included), the trainable
ones beside it: `trainable_params(model)` and `count_text(row)`.
"""

import hashlib
import math
import json

FINGERPRINT_LENGTH = 16


def _canonical(node, names):
    """`node` without names and dtypes; layer references by position in `names`."""
    if isinstance(node, dict):
        if isinstance(node.get("layers"), list):  # a model's config: a new scope of layer names
            names = {}
            for position, layer in enumerate(node["layers"]):
                name = layer.get("name") or (layer.get("config") or {}).get("name")
                names.setdefault(name, position)
        out = {}
        for key, value in node.items():
            if key in ("name", "dtype"):
                continue
            if key == "keras_history":
                value = [names.get(value[0], value[0]), *value[1:]]
            elif key in ("input_layers", "output_layers"):
                value = _layer_references(value, names)
            out[key] = _canonical(value, names)
        return out
    if isinstance(node, (list, tuple)):
        return [_canonical(v, names) for v in node]
    return node


def _layer_references(value, names):
    """[name, node, tensor] (or a nest of them) with each name replaced by its position."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
        return [names.get(value[0], value[0]), *value[1:]]
    if isinstance(value, (list, tuple)):
        return [_layer_references(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _layer_references(v, names) for k, v in value.items()}
    return value


def architecture_config(model):
    """The part of a model's Keras config that `architecture_fingerprint` hashes.

    The model's serialized config (`keras.saving.serialize_keras_object`),
    with what does not change the computation removed: every `name` (the
    model's and its layers'; layers are referred to by their position) and
    every `dtype` (so a mixed-precision build is the same architecture), and
    the build and compile configs. Two builds of one architecture give the
    same dict, whatever the layers were named.

    Example:

    >>> architecture_config(models.create_model("cnn_tiny"))["class_name"]
    'Functional'
    """
    import keras

    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    kept = {k: serialized.get(k) for k in ("module", "class_name", "registered_name", "config")}
    return _canonical(kept, {})


def architecture_fingerprint(model):
    """A short hex digest of a built model's architecture: what the manifest's `"architecture"` holds.

    The first 16 hex digits of the sha256 of `architecture_config(model)` as
    key-sorted compact JSON. Equal for two builds of the same configuration
    (an override equal to its default included); different when any layer's
    configuration differs (an activation, a padding mode, a window), even
    where every weight's shape is the same. It reads Keras's config, so a
    Keras version that adds a key to a layer's config changes it too.

    Example:

    >>> architecture_fingerprint(models.create_model("cnn_small")) == \\
    ...     architecture_fingerprint(models.create_model("cnn_small", width=1))
    True
    """
    text = json.dumps(architecture_config(model), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def trainable_params(model):
    """The number of trainable parameters of a built Keras `model` or layer (the tables show it beside `count_params`).

    Example:

    >>> import keras
    >>> layer = keras.layers.Dense(3)
    >>> layer.build((None, 4))
    >>> trainable_params(layer)  # a 4×3 kernel and 3 biases
    15
    """
    return int(sum(math.prod(w.shape) for w in model.trainable_weights))


def count_text(row):
    """A table's count cell: every weight (`row["params"]`), the trainable ones (`row["trainable_params"]`) beside it.

    One figure when they are equal. `row` is a manifest entry, a run's
    results or a table's row: anything with those two keys.

    Example:

    >>> count_text({"params": 9234, "trainable_params": 9106}), count_text({"params": 666, "trainable_params": 666})
    ('9,234 (9,106)', '666')
    """
    if row["params"] == row["trainable_params"]:
        return f"{row['params']:,}"
    return f"{row['params']:,} ({row['trainable_params']:,})"

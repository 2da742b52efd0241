"""Migrate a tf-keras .h5 model with LocallyConnected1D/2D layers to Keras 3.

    python -m constrained_layers.migrate old.h5 new.keras [--atol 1e-5] [--rtol 1e-5] [--samples 8]

Loads OLD.h5 into Keras 3 with `constrained_layers.compat`'s layers (tf-keras's
weight layouts), replaces each by the equivalent native layer
(`compat.to_native`), so that NEW.keras needs only `import constrained_layers`,
and copies every other layer's weights. Before NEW.keras is written (to a
temporary file in the same directory, then renamed over NEW.keras), the
saved file is loaded back and its outputs on random inputs are compared with
tf-keras's own on OLD.h5 when `tf_keras` is importable, else (as the output
says) with the compat model's. The model is loaded without its compile
state: compile NEW.keras again before training it. (Keras 3's .h5 loader
does not resolve a tf-keras Sequential nested in a functional model; such a
file fails to load with Keras's message.)

Exit status 0 on success; 1 with a one-line message for a missing file, a
file that is not a Keras model, a layer that cannot be converted and
outputs that differ beyond the tolerance (NEW.keras is then not written).
"""

import argparse
import dataclasses
import json
import os
import sys
import tempfile

import numpy as np

#: Defaults of `migrate` and of the command line.
ATOL = 1e-5
RTOL = 1e-5
SAMPLES = 8
SEED = 0


class MigrationError(Exception):
    """A migration that cannot go on; the message is one line for the user."""


@dataclasses.dataclass
class MigrationReport:
    """What `migrate` did.

    Attributes:
        old_path, new_path: the files.
        converted: one "name (Class, implementation=i)" per layer replaced.
        reference: "tf_keras" (outputs compared with tf-keras on OLD) or
            "compat" (compared with the compat model loaded in Keras 3,
            because of `why`: tf_keras not importable, or unable to load OLD).
        why: why the reference is not tf-keras ("" when it is).
        max_abs_diff: the largest |new - reference| over `samples` inputs.
        samples, atol, rtol: the check.
    """

    old_path: str
    new_path: str
    converted: list
    reference: str
    why: str
    max_abs_diff: float
    samples: int
    atol: float
    rtol: float

    def __str__(self):
        against = (
            "tf-keras on the old file"
            if self.reference == "tf_keras"
            else f"the compat model in Keras 3 ({self.why}: NOT compared with tf-keras itself)"
        )
        layers = ", ".join(self.converted) or "none"
        return (
            f"wrote {self.new_path}\n"
            f"converted {len(self.converted)} layer(s): {layers}\n"
            f"outputs on {self.samples} random inputs match {against}: "
            f"max |difference| = {self.max_abs_diff:.3g} (atol={self.atol:g}, rtol={self.rtol:g})"
        )


def _model_config(path):
    """The model's config in an .h5 file, or a MigrationError."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            raw = f.attrs.get("model_config")
    except OSError as error:
        raise MigrationError(f"{path} is not a Keras .h5 model file (not HDF5: {_first_line(error)})") from None
    if raw is None:
        raise MigrationError(f"{path} is not a Keras .h5 model file (it has no model_config)")
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def _layer_configs(model_config):
    """Every (name, class_name) of the layers in a model config, nested models' too."""
    for entry in model_config.get("config", {}).get("layers", []):
        if not isinstance(entry, dict):
            continue
        yield entry.get("config", {}).get("name", entry.get("name")), entry.get("class_name")
        if isinstance(entry.get("config"), dict) and "layers" in entry["config"]:
            yield from _layer_configs(entry)


def _unknown_layer(model_config, custom_objects):
    """The first (name, class_name) of a layer Keras 3 cannot build, or None."""
    import keras

    known = {"Functional", "Model", "Sequential", "InputLayer", *custom_objects}
    for name, class_name in _layer_configs(model_config):
        if class_name in known or hasattr(keras.layers, class_name):
            continue
        if keras.saving.get_registered_object(class_name) is not None:
            continue
        return name, class_name
    return None


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _load(old_path, custom_objects):
    import keras

    if not os.path.exists(old_path):
        raise MigrationError(f"{old_path}: no such file")
    config = _model_config(old_path)
    try:
        return keras.models.load_model(old_path, custom_objects=custom_objects, compile=False)
    except Exception as error:  # Keras raises many types here; the message says which
        unknown = _unknown_layer(config, custom_objects)
        if unknown is not None:
            name, class_name = unknown
            raise MigrationError(
                f"cannot convert layer {name!r} of class {class_name!r}: Keras 3 has no such layer "
                f"(pass its class in custom_objects to `migrate`)"
            ) from None
        raise MigrationError(f"{old_path} could not be loaded as a Keras model: {_first_line(error)}") from None


def _native_model(model):
    """`model` with each compat layer replaced by its native equivalent."""
    import keras

    from constrained_layers import compat

    converted, copies = [], []

    def clone(layer):
        if isinstance(layer, compat.BaseLocallyConnectedCompat):
            try:
                new = compat.to_native(layer)
            except Exception as error:
                raise MigrationError(
                    f"cannot convert layer {layer.name!r} of class {type(layer).__name__!r}: {_first_line(error)}"
                ) from None
            converted.append(f"{layer.name} ({type(layer).__name__}, implementation={layer.implementation})")
            return new
        new = layer.__class__.from_config(layer.get_config())
        copies.append((layer, new))
        return new

    new_model = keras.models.clone_model(model, clone_function=clone, recursive=True)
    for old, new in copies:
        new.set_weights(old.get_weights())
    return new_model, converted


def _random_inputs(model, samples, seed):
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape[1:])
        if None in shape:
            raise MigrationError(
                f"input {tensor.name!r} has an unknown dimension {tuple(tensor.shape)}: cannot draw test inputs"
            )
        if "int" in str(tensor.dtype):
            inputs.append(rng.integers(0, 2, size=(samples, *shape)).astype(str(tensor.dtype)))
        else:
            inputs.append(rng.uniform(-1.0, 1.0, size=(samples, *shape)).astype("float32"))
    return inputs


def _predict(model, inputs):
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def _reference_outputs(old_path, compat_model, inputs):
    """(outputs, reference, why): tf-keras's on OLD, else the compat model's and why."""
    try:
        import tf_keras
    except ImportError:
        return _predict(compat_model, inputs), "compat", "tf_keras is not installed"
    try:
        reference = tf_keras.models.load_model(old_path, compile=False)
    except Exception as error:  # e.g. custom layers that only Keras 3 was given
        return _predict(compat_model, inputs), "compat", f"tf_keras could not load the old file: {_first_line(error)}"
    return _predict(reference, inputs), "tf_keras", ""


def migrate(old_path, new_path, atol=ATOL, rtol=RTOL, samples=SAMPLES, seed=SEED, custom_objects=None):
    """Converts a tf-keras .h5 model with locally connected layers to a native .keras.

    Args:
        old_path: a tf-keras model saved to .h5 (`model.save("old.h5")`).
        new_path: where to write the Keras 3 model; must end in ".keras".
            Replaced if it exists (atomically: written to a temporary file
            beside it, checked, then renamed).
        atol, rtol: the outputs must satisfy |new - reference| <= atol +
            rtol·|reference| on every element.
        samples: how many random inputs (uniform in [-1, 1]) to compare on.
        seed: the inputs' random seed.
        custom_objects: extra classes the old model needs (its own layers).

    Returns:
        A `MigrationReport`.

    Raises:
        MigrationError: a missing or non-model file, a layer that cannot be
            converted, or outputs beyond the tolerance (nothing written).

    Example:

        report = migrate("old.h5", "new.keras")
        print(report)
        model = keras.saving.load_model("new.keras")  # needs only `import constrained_layers`
    """
    import keras

    import constrained_layers  # noqa: F401  (registers the native layers)
    from constrained_layers import compat

    old_path, new_path = os.fspath(old_path), os.fspath(new_path)
    if not new_path.endswith(".keras"):
        raise MigrationError(f"the new file must end in .keras (Keras 3's format). Received: {new_path}")
    if samples < 1:
        raise MigrationError(f"samples must be at least 1. Received: samples={samples}")
    objects = {**compat.custom_objects(), **(custom_objects or {})}
    model = _load(old_path, objects)
    native, converted = _native_model(model)

    inputs = _random_inputs(model, samples, seed)
    expected, reference, why = _reference_outputs(old_path, model, inputs)

    directory = os.path.dirname(os.path.abspath(new_path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".migrate-", suffix=".keras")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 -> what a plain save gives
    try:
        native.save(tmp)
        reloaded = keras.saving.load_model(tmp, custom_objects=custom_objects)  # only native classes
        actual = _predict(reloaded, inputs)
        max_diff, ok = 0.0, True
        for a, e in zip(actual, expected):
            if a.shape != e.shape:
                raise MigrationError(f"output shapes differ: {a.shape} (new) vs {e.shape} (reference)")
            max_diff = max(max_diff, float(np.max(np.abs(a - e), initial=0.0)))
            ok = ok and bool(np.all(np.abs(a - e) <= atol + rtol * np.abs(e)))
        if not ok:
            raise MigrationError(
                f"outputs differ from {'tf-keras' if reference == 'tf_keras' else 'the compat model'} "
                f"by up to {max_diff:.3g} (tolerance atol={atol:g}, rtol={rtol:g}); {new_path} not written"
            )
        os.replace(tmp, new_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return MigrationReport(old_path, new_path, converted, reference, why, max_diff, samples, atol, rtol)


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m constrained_layers.migrate",
        description=(
            "Convert a tf-keras .h5 model with LocallyConnected1D/2D layers to a Keras 3 "
            ".keras file with constrained_layers' native layers, after checking that "
            "both compute the same outputs (against tf-keras itself when tf_keras is "
            "installed). NEW is replaced if it exists."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("old", metavar="OLD.h5", help="the tf-keras model (.h5)")
    parser.add_argument("new", metavar="NEW.keras", help="where to write the Keras 3 model")
    parser.add_argument("--atol", type=float, default=ATOL, help="absolute tolerance of the output check")
    parser.add_argument("--rtol", type=float, default=RTOL, help="relative tolerance of the output check")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="random inputs to compare on")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed of those inputs")
    return parser


def main(argv=None):
    """The command line; returns the exit status (see the module docstring).

    Example: `main(["old.h5", "new.keras", "--samples", "4"])`.
    """
    args = _parser().parse_args(argv)
    try:
        report = migrate(args.old, args.new, atol=args.atol, rtol=args.rtol, samples=args.samples, seed=args.seed)
    except MigrationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

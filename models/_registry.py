"""The zoo's registry: `@register_model`, `create_model`, `list_models`.

As in timm: a model is a small builder function registered under its own
name; `create_model(name, input_shape=..., num_classes=..., **overrides)`
calls it (overrides that are None are dropped, so the defaults apply; an
override the model does not take is an error naming the accepted ones),
`create_model(name, weights="fashion_mnist")` loads published weights
(`models/weights.py`, which this module uses and which knows nothing of
the registry), `count_params(name, **overrides)` counts a
configuration's weights (every one, as Keras's `count_params`;
`count_trainable_params` the trainable part), and `list_models(pattern)` returns the sorted names
matching a wildcard.
"""

import dataclasses
import difflib
import fnmatch
import warnings

from . import weights as _published
from .architecture import trainable_params
from .datasets import meant_for_rank

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model.

    Attributes:
        name: the builder's name, also the name of the built `keras.Model`.
        family: the constraint the model studies ("mlp", "fully_connected",
            "locally_connected", "low_rank_locally_connected", "shared_conv",
            "multi_channel_conv").
        rank: 2 for images (batch, H, W, C), 1 for sequences (batch, L, C).
        datasets: the datasets the model is meant for (and tested on).
        builder: the function that builds it.
        description: the builder's docstring's first line.
        options: the overrides `create_model` passes to the builder.
        same_as: the name of another model that computes the same function
            with the same parameters (without overrides), or None: a results
            table marks the two as one model trained twice, not two designs.
    """

    name: str
    family: str
    rank: int
    datasets: tuple
    builder: object
    description: str
    options: tuple = ()
    same_as: str = None


# The knobs that make sense for each family: the window (`delta` or Keras's
# `kernel_size`) and the layers' `padding_mode`, `convolution` and
# `implementation` where the family has them (and `num_kernels`, the R
# shared kernels of the low-rank layers, with their `mixing_normalization`
# and `mixing_factorization`), a `width` multiplier of every
# hidden width, and `dropout` before the classifier.
_WINDOWED = ("delta", "kernel_size", "padding_mode", "convolution")
FAMILY_OPTIONS = {
    "mlp": ("width", "dropout"),
    "fully_connected": ("width", "dropout"),
    "locally_connected": (*_WINDOWED, "width", "dropout"),
    "low_rank_locally_connected": (
        *_WINDOWED, "num_kernels", "mixing_normalization", "mixing_factorization", "implementation", "width", "dropout",
    ),
    "shared_conv": (*_WINDOWED, "implementation", "width", "dropout"),
    "multi_channel_conv": (*_WINDOWED, "implementation", "width", "dropout"),
}


def register_model(family, rank=2, datasets=None, options=None, same_as=None):
    """Registers a builder `fn(input_shape, num_classes, **overrides) -> keras.Model`.

    Args:
        family: the constraint family the model belongs to.
        rank: number of spatial axes of its inputs (2: images, 1: sequences).
        datasets: the datasets it is meant for; default: those of its rank
            (`models.datasets.meant_for_rank`: Fashion-MNIST and digits for
            images, MNIST-1D for sequences).
        options: the overrides the builder takes; default: its family's
            (`FAMILY_OPTIONS`).
        same_as: a model computing the same function, e.g. a fully
            connected layer of one filter is a `Dense` layer on the
            flattened input; `ModelEntry.same_as`.

    Example:

    >>> @register_model(family="mlp")
    ... def mlp_example(input_shape=(28, 28, 1), num_classes=10):
    ...     '''A one-layer example.'''
    ...     ...
    """

    def decorator(fn):
        name = fn.__name__
        if name in _REGISTRY:
            warnings.warn(f"Model {name!r} is registered twice; the later definition wins.")
        doc = (fn.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelEntry(
            name, family, rank, tuple(datasets or meant_for_rank(rank)), fn, doc[0] if doc else "",
            tuple(sorted(options if options is not None else FAMILY_OPTIONS.get(family, ()))), same_as,
        )
        return fn

    return decorator


def list_models(pattern="*", family=None, rank=None):
    """Sorted names of the registered models that match.

    Args:
        pattern: a shell-style wildcard (`"lenet*"`, `"*_1d_*"`), or a list
            of them.
        family: keep only this family.
        rank: keep only models for inputs of this rank (1 or 2).
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    return sorted(
        name
        for name, entry in _REGISTRY.items()
        if any(fnmatch.fnmatchcase(name, p) for p in patterns)
        and (family is None or entry.family == family)
        and (rank is None or entry.rank == rank)
    )


def model_entry(name):
    """The `ModelEntry` of `name`; raises a `ValueError` naming near matches."""
    if name not in _REGISTRY:
        near = difflib.get_close_matches(name, list(_REGISTRY), n=5, cutoff=0.4)
        hint = f" Did you mean {', '.join(map(repr, near))}?" if near else ""
        raise ValueError(
            f"Unknown model for argument `name`: {name!r}.{hint} "
            f"`models.list_models()` lists all {len(_REGISTRY)} models."
        )
    return _REGISTRY[name]


def _check_overrides(entry, overrides):
    """Drops None overrides; raises for one `entry`'s builder does not take."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    for key, value in overrides.items():
        if key not in entry.options:
            raise ValueError(
                f"Model {entry.name!r} does not take the override `{key}` (received {key}={value!r}). "
                f"It accepts: {', '.join(entry.options) or 'none'}."
            )
    if "delta" in overrides and "kernel_size" in overrides:
        raise ValueError(
            f"Model {entry.name!r}: pass one of `delta` or `kernel_size`, not both. "
            f"Received: delta={overrides['delta']!r}, kernel_size={overrides['kernel_size']!r}"
        )
    return overrides


def create_model(name, input_shape=None, num_classes=None, weights=None, weights_dir=None, **overrides):
    """Builds the registered model `name` (uncompiled), named after it.

    Args:
        name: a name from `list_models()`.
        input_shape: input shape without the batch axis; None keeps the
            builder's default (with `weights`, the weights' own).
        num_classes: number of output logits; None keeps the default (with
            `weights`, the weights' own).
        weights: None (random initialization, the default) or the dataset
            whose published weights to load, e.g. `"fashion_mnist"` or
            `"mnist1d"` (see `models.published_weights()`). The file's
            sha256, the parameter counts, the architecture's fingerprint
            and the weights' shapes are checked before loading. Overrides
            apply over the weights' own and must build their architecture
            (an override equal to its default does).
        weights_dir: where published weights are (default:
            `models.weights_dir()`: `$ZOO_WEIGHTS_DIR`, else the package's).
        **overrides: the knobs of the model's family (`model_entry(name).options`):
            `delta` or `kernel_size`, `padding_mode`, `convolution`,
            `implementation`, `num_kernels` (the low-rank layers' R),
            `mixing_normalization` and `mixing_factorization` (their mixing
            weights: Elsayed et al.'s softmax and row × column terms),
            `width` (a multiplier of every hidden width)
            and `dropout` (before the classifier). Those set to None are
            dropped, so the defaults apply.

    Returns:
        A `keras.Model` whose `name` is `name`.

    Raises:
        ValueError: for an unknown name (the message lists near matches), an
            input shape of the wrong rank for the model, an override the
            model does not take (the message lists those it does), or
            weights that cannot be loaded (unknown dataset, none published
            for this model, a corrupted file, another architecture, or an
            `input_shape`/`num_classes` other than the weights'): a
            `models.WeightsError`.

    Example:

    >>> model = create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    >>> create_model("cnn_small", delta=2, padding_mode="circular", width=2).count_params()
    28938
    """
    entry = model_entry(name)
    overrides = _check_overrides(entry, overrides)
    if weights is not None:
        record = _published.find_published(name, weights, weights_dir)
        model = create_model(name, **_published.build_arguments(record, input_shape, num_classes, overrides))
        return _published.load_into(model, record, weights_dir, overrides)
    kwargs = {k: v for k, v in dict(overrides, input_shape=input_shape, num_classes=num_classes).items() if v is not None}
    if "input_shape" in kwargs and len(kwargs["input_shape"]) != entry.rank + 1:
        layout = "(length, channels)" if entry.rank == 1 else "(height, width, channels)"
        raise ValueError(
            f"Model {name!r} takes inputs {layout}, of rank {entry.rank + 1} without the "
            f"batch axis. Received: input_shape={tuple(kwargs['input_shape'])}"
        )
    return entry.builder(**kwargs)


def count_params(name, input_shape=None, num_classes=None, **overrides):
    """Every weight of `create_model(name, input_shape, num_classes, **overrides)`: Keras's `count_params`.

    The count the zoo's tables, budgets and goals use: trainable weights
    plus BatchNorm's moving statistics, as `model.count_params()` of the
    built model (`count_trainable_params` gives the trainable part). The
    model is built to count it (a fraction of a second for every zoo
    configuration; a fully connected layer too large to build is refused
    by the layer, quoting its count), and its constrained layers' counts
    equal `constrained_layers.count_params` (the zoo's tests check both).

    Args:
        name, input_shape, num_classes, **overrides: as `create_model`'s.

    Returns:
        The number of weights, an int.

    Example:

    >>> count_params("cnn_small"), count_params("cnn_small", width=2)
    (9098, 20490)
    >>> count_params("cnn_bn_10k") - count_trainable_params("cnn_bn_10k")  # BatchNorm's moving mean and variance
    128
    """
    return int(create_model(name, input_shape=input_shape, num_classes=num_classes, **overrides).count_params())


def count_trainable_params(name, input_shape=None, num_classes=None, **overrides):
    """The trainable weights of `create_model(name, input_shape, num_classes, **overrides)`.

    What the optimizer updates: `count_params` less BatchNorm's moving
    statistics. The tables show it in parentheses beside every weight.

    Args:
        name, input_shape, num_classes, **overrides: as `create_model`'s.

    Returns:
        The number of trainable weights, an int.

    Example:

    >>> count_trainable_params("cnn_bn_10k")
    9106
    """
    return trainable_params(create_model(name, input_shape=input_shape, num_classes=num_classes, **overrides))

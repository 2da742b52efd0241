"""The zoo's registry: `@register_model`, `create_model`, `list_models`.

As in timm: a model is a small builder function registered under its own
name; `create_model(name, input_shape=..., num_classes=..., **overrides)`
calls it (overrides that are None are dropped, so the defaults apply), and
`list_models(pattern)` returns the sorted names matching a wildcard.
"""

import dataclasses
import difflib
import fnmatch
import warnings

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model.

    Attributes:
        name: the builder's name, also the name of the built `keras.Model`.
        family: the constraint the model studies ("mlp", "fully_connected",
            "locally_connected", "shared_conv", "multi_channel_conv").
        rank: 2 for images (batch, H, W, C), 1 for sequences (batch, L, C).
        datasets: the datasets the model is meant for (and tested on).
        builder: the function that builds it.
        description: the builder's docstring's first line.
    """

    name: str
    family: str
    rank: int
    datasets: tuple
    builder: object
    description: str


DEFAULT_DATASETS = {2: ("fashion_mnist", "digits"), 1: ("mnist1d",)}


def register_model(family, rank=2, datasets=None):
    """Registers a builder `fn(input_shape, num_classes, **kwargs) -> keras.Model`.

    Args:
        family: the constraint family the model belongs to.
        rank: number of spatial axes of its inputs (2: images, 1: sequences).
        datasets: the datasets it is meant for; default: Fashion-MNIST and
            digits for images, MNIST-1D for sequences.

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
            name, family, rank, tuple(datasets or DEFAULT_DATASETS[rank]), fn, doc[0] if doc else ""
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


def create_model(name, input_shape=None, num_classes=None, **overrides):
    """Builds the registered model `name` (uncompiled), named after it.

    Args:
        name: a name from `list_models()`.
        input_shape: input shape without the batch axis; None keeps the
            builder's default.
        num_classes: number of output logits; None keeps the default.
        **overrides: builder arguments; those set to None are dropped.

    Returns:
        A `keras.Model` whose `name` is `name`.

    Raises:
        ValueError: for an unknown name (the message lists near matches) or
            an input shape of the wrong rank for the model.

    Example:

    >>> model = create_model("lenet5", input_shape=(28, 28, 1), num_classes=10)
    >>> model.output_shape
    (None, 10)
    """
    entry = model_entry(name)
    kwargs = {k: v for k, v in dict(overrides, input_shape=input_shape, num_classes=num_classes).items() if v is not None}
    if "input_shape" in kwargs and len(kwargs["input_shape"]) != entry.rank + 1:
        layout = "(length, channels)" if entry.rank == 1 else "(height, width, channels)"
        raise ValueError(
            f"Model {name!r} takes inputs {layout}, of rank {entry.rank + 1} without the "
            f"batch axis. Received: input_shape={tuple(kwargs['input_shape'])}"
        )
    return entry.builder(**kwargs)

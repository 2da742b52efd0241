"""Parameter arithmetic of §7.1, computed without building anything.

`count_params(layer, input_shape, **layer_kwargs)` reads the same
`weight_shapes` method that `build` allocates from, so it equals Keras's
`count_params()` for every configuration that can be built, and answers
instantly for the ones that cannot (10^12 weights for a megapixel image).
`python -m constrained_layers.params` prints the derivation's table.
"""

import math

from constrained_layers.fully_connected import FullyConnected1D, FullyConnected2D
from constrained_layers.locally_connected import LocallyConnected, LocallyConnected1D
from constrained_layers.low_rank import LowRankLocallyConnected, LowRankLocallyConnected1D
from constrained_layers.multi_channel_conv import MultiChannelConv, MultiChannelConv1D
from constrained_layers.shared_conv import SharedConv, SharedConv1D

LAYERS = {
    cls.__name__: cls
    for cls in (
        FullyConnected1D,
        FullyConnected2D,
        LocallyConnected,
        LocallyConnected1D,
        LowRankLocallyConnected,
        LowRankLocallyConnected1D,
        SharedConv,
        SharedConv1D,
        MultiChannelConv,
        MultiChannelConv1D,
    )
}
# The 2D aliases exported by the package, by name.
LAYERS.update(
    LocallyConnected2D=LocallyConnected,
    LowRankLocallyConnected2D=LowRankLocallyConnected,
    SharedConv2D=SharedConv,
    MultiChannelConv2D=MultiChannelConv,
)


def _resolve(layer):
    if isinstance(layer, str):
        if layer not in LAYERS:
            raise ValueError(
                f"Unknown layer for argument `layer`. Expected one of "
                f"{sorted(LAYERS)}. Received: layer={layer!r}"
            )
        return LAYERS[layer]
    if isinstance(layer, type) and issubclass(layer, tuple(LAYERS.values())):
        return layer
    raise TypeError(
        "Invalid type for argument `layer`. Expected a constrained layer "
        f"class, its name or an instance. Received: layer={layer!r}"
    )


def count_params(layer, input_shape, **layer_kwargs):
    """Number of parameters of a constrained layer on inputs of `input_shape`.

    Computed from the weights' shapes alone: nothing is built or allocated,
    so the megapixel fully connected layer of the text is counted instantly.

    Args:
        layer: a constrained layer class (`SharedConv`), its name
            ("SharedConv"), or an instance (then `layer_kwargs` must be
            empty).
        input_shape: the input's shape without the batch axis, e.g.
            `(1000, 1000, 1)`.
        **layer_kwargs: the layer's constructor arguments.

    Returns:
        The parameter count, an int; equal to `count_params()` of the built
        layer.

    Raises:
        ValueError, TypeError: for an unknown layer, or arguments or an input
            shape the layer would reject.

    Example:

    >>> count_params("FullyConnected2D", (1000, 1000, 1), filters=1)
    1000001000000
    >>> count_params(SharedConv, (1000, 1000, 1), delta=10)
    442
    """
    if isinstance(layer, tuple(LAYERS.values())):
        if layer_kwargs:
            raise ValueError(
                "Pass `layer_kwargs` only with a layer class or name, not with "
                f"an instance. Received: layer_kwargs={layer_kwargs!r}"
            )
        instance = layer
    else:
        instance = _resolve(layer)(**layer_kwargs)
    shapes = instance.weight_shapes((None, *tuple(input_shape)))
    return sum(math.prod(shape) for shape in shapes.values())


def derivation_table(height, width, delta, channels=1, filters=1):
    """Rows of the §7.1 derivation for one image: (step, layer, weights, biases).

    Each count comes from `count_params`; "weights" leaves out the biases.
    """
    shape = (height, width, channels)
    whole = (2 * height - 1, 2 * width - 1)
    steps = [
        ("fully connected, eq. (7.1.1)", FullyConnected2D, {"filters": filters}),
        ("translation invariance, eq. (7.1.2)", MultiChannelConv, {"filters": filters, "kernel_size": whole}),
        ("locality without invariance", LocallyConnected, {"filters": filters, "delta": delta}),
        ("invariance + locality, eq. (7.1.3)/(7.1.7)", MultiChannelConv, {"filters": filters, "delta": delta}),
        ("  ... one kernel per channel (SharedConv)", SharedConv, {"delta": delta}),
    ]
    rows = []
    for step, cls, kwargs in steps:
        total = count_params(cls, shape, **kwargs)
        weights = count_params(cls, shape, use_bias=False, **kwargs)
        rows.append((step, cls.__name__, weights, total - weights))
    return rows

"""What is compared: each case is one shape and several implementations of one layer.

Groups:

- "locally connected": LocallyConnected / LocallyConnected1D (the fast path,
  and the readable patches+einsum path it replaced) against MultiChannelConv
  of the same shape (the reference: same multiply-adds, shared weights) and
  against tf-keras's LocallyConnected implementations 1, 2 and 3.
- "parity": SharedConv, MultiChannelConv and FullyConnected against
  DepthwiseConv, Conv and Dense on the flattened input, for every padding
  mode; for reflect/symmetric/circular the reference pads explicitly (with
  TensorFlow's own ops) and runs the built-in with "valid".
- "fft": SharedConv's whole-image kernel (delta=None), implementation
  "direct" against "fft" and "auto".

Every `make(x)` returns `(forward, weights)` for `timing.make_step`.

Example:

>>> [c.name for c in build_cases(quick=True)][:2]
['lc2d-base', 'sharedconv2d-same']
"""

import dataclasses
import math

import numpy as np

BATCH = 128
#: tf-keras implementations whose step would need more are skipped (the
#: machine has 24 GB, shared; every implementation of a case lives at once).
MEMORY_LIMIT_BYTES = 4e9

_TF_KERAS_MEMORY = {
    1: "one input-sized gradient per output position, summed at the end",
    2: "a dense masked kernel (inputs × outputs), its mask and its gradient",
    3: "a sparse kernel and its gradient",
}


def _tf_keras_step_bytes(implementation, batch, spatial, out, channels, filters):
    """Rough peak of a tf-keras LocallyConnected training step, in bytes.

    implementation=1 differentiates one slice per output position: as many
    gradients of the input's size, alive until they are summed (1.2 GB
    measured at the base shape). implementation=2 holds a dense
    (H·W·C, H'·W'·F) kernel, a mask of that size and a gradient.
    implementation=3 measured 2.2 GB at the base shape; scaled by the
    kernel's size.
    """
    inputs = 4 * batch * math.prod(spatial) * channels
    if implementation == 1:
        return math.prod(out) * inputs
    dense = 4 * math.prod(spatial) * channels * math.prod(out) * filters
    if implementation == 2:
        return 3 * dense
    kernel = math.prod(out) * 25 * channels * filters
    return 2.2e9 * kernel / (576 * 25 * 8 * 16) * batch / 128


@dataclasses.dataclass
class Case:
    """One shape, several implementations; ratios are to `reference`."""

    name: str
    group: str
    shape: str
    x_shape: tuple
    impls: dict
    reference: str
    memory: bool = False
    skipped: dict = dataclasses.field(default_factory=dict)

    def input(self, seed=0):
        return np.random.default_rng(seed).standard_normal(self.x_shape).astype(np.float32)


# ------------------------------------------------------------------ builders
def keras_layer(factory):
    """A `make` for a Keras 3 (or tf-keras) layer built by `factory()`."""

    def make(x):
        layer = factory()
        layer(x)
        return layer, layer.trainable_weights

    return make


def padded_builtin(factory, amounts, mode):
    """Explicit padding with TensorFlow's ops, then the built-in with "valid"."""

    def make(x):
        import tensorflow as tf

        layer = factory()

        def forward(t):
            if mode in ("reflect", "symmetric"):
                t = tf.pad(t, [(0, 0), *amounts, (0, 0)], mode=mode.upper())
            else:  # circular: wrap around, axis by axis
                for axis, (before, after) in enumerate(amounts, start=1):
                    n = t.shape[axis]
                    parts = [tf.gather(t, list(range(n - before, n)), axis=axis)] if before else []
                    parts += [t] + ([tf.gather(t, list(range(after)), axis=axis)] if after else [])
                    t = tf.concat(parts, axis=axis)
            return layer(t)

        forward(x)
        return forward, layer.trainable_weights

    return make


def flattened_dense(units, out_shape):
    """Dense on the flattened input, reshaped: FullyConnected's built-in twin."""

    def make(x):
        import keras
        import tensorflow as tf

        layer = keras.layers.Dense(units)

        def forward(t):
            y = layer(tf.reshape(t, (t.shape[0], -1)))
            return tf.reshape(y, (t.shape[0], *out_shape))

        forward(x)
        return forward, layer.trainable_weights

    return make


def readable_lc(factory):
    """The locally connected layer on its readable path (patches + einsum)."""

    def make(x):
        layer = factory()
        layer._apply_kernel = layer._apply_kernel_patches
        layer(x)
        return layer, layer.trainable_weights

    return make


def same_amounts(spatial, window):
    """Keras's "same" padding for stride 1: (k-1)//2 before, the rest after."""
    return [((k - 1) // 2, k - 1 - (k - 1) // 2) for n, k in zip(spatial, window)]


# --------------------------------------------------------------------- cases
def locally_connected_case(name, batch, spatial, channels, filters, kernel, tf_keras_impls=(1, 2, 3), quick=False):
    import keras
    import tf_keras

    import constrained_layers as cl

    rank = len(spatial)
    window = (kernel,) * rank
    out = tuple(n - kernel + 1 for n in spatial)
    ours = cl.LocallyConnected if rank == 2 else cl.LocallyConnected1D
    conv = cl.MultiChannelConv if rank == 2 else cl.MultiChannelConv1D
    builtin = keras.layers.Conv2D if rank == 2 else keras.layers.Conv1D
    theirs = tf_keras.layers.LocallyConnected2D if rank == 2 else tf_keras.layers.LocallyConnected1D
    impls = {
        "MultiChannelConv": keras_layer(lambda: conv(filters, kernel_size=kernel, padding="valid")),
        f"keras {builtin.__name__}": keras_layer(lambda: builtin(filters, kernel, padding="valid")),
        "LocallyConnected": keras_layer(lambda: ours(filters, kernel_size=kernel, padding="valid")),
        "LocallyConnected (patches, before)": readable_lc(lambda: ours(filters, kernel_size=kernel, padding="valid")),
    }
    if quick:
        del impls[f"keras {builtin.__name__}"], impls["LocallyConnected (patches, before)"]
    skipped = {}
    for implementation in tf_keras_impls:
        label = f"tf-keras impl={implementation}"
        need = _tf_keras_step_bytes(implementation, batch, spatial, out, channels, filters)
        if need > MEMORY_LIMIT_BYTES:
            skipped[label] = f"needs ~{need / 1e9:.0f} GB per step ({_TF_KERAS_MEMORY[implementation]})"
            continue
        impls[label] = keras_layer(
            lambda implementation=implementation: theirs(filters, window if rank == 2 else kernel, implementation=implementation)
        )
    shape = f"B={batch} {'×'.join(map(str, spatial))}×{channels} → {filters}, {'×'.join(map(str, window))} valid"
    return Case(name, "locally connected", shape, (batch, *spatial, channels), impls, "MultiChannelConv", True, skipped)


def parity_cases(rank, quick):
    import keras

    import constrained_layers as cl

    spatial = (28, 28) if rank == 2 else (784,)
    channels, filters, kernel = 8, 16, 5
    window = (kernel,) * rank
    x_shape = (BATCH, *spatial, channels)
    text = f"B={BATCH} {'×'.join(map(str, spatial))}×{channels}"
    depthwise = keras.layers.DepthwiseConv2D if rank == 2 else keras.layers.DepthwiseConv1D
    conv = keras.layers.Conv2D if rank == 2 else keras.layers.Conv1D
    shared = cl.SharedConv if rank == 2 else cl.SharedConv1D
    multi = cl.MultiChannelConv if rank == 2 else cl.MultiChannelConv1D
    boundaries = [("same", "zeros"), ("same", "circular")] if quick else [
        ("same", "zeros"), ("same", "reflect"), ("same", "symmetric"), ("same", "circular"), ("valid", "zeros")
    ]
    cases = []
    for padding, mode in boundaries:
        boundary = padding if mode == "zeros" else mode
        amounts = same_amounts(spatial, window)
        for ours, builtin, make_builtin, label, width in (
            (shared, depthwise, lambda p: depthwise(kernel, padding=p), "SharedConv", ""),
            (multi, conv, lambda p: conv(filters, kernel, padding=p), "MultiChannelConv", f" → {filters}"),
        ):
            if mode == "zeros":
                reference = keras_layer(lambda p=padding, m=make_builtin: m(p))
                ref_name = f"keras {builtin.__name__}"
            else:
                reference = padded_builtin(lambda m=make_builtin: m("valid"), amounts, mode)
                ref_name = f"pad + keras {builtin.__name__}"
            impls = {
                ref_name: reference,
                label: keras_layer(
                    lambda o=ours, p=padding, m=mode: o(
                        *(() if o is shared else (filters,)), kernel_size=kernel, padding=p, padding_mode=m
                    )
                ),
            }
            name = f"{label.lower()}{rank}d-{boundary}"
            shape = f"{text}{width}, {'×'.join(map(str, window))} {boundary}"
            cases.append(Case(name, "parity", shape, x_shape, impls, ref_name))
    fc_spatial = (14, 14) if rank == 2 else (196,)
    fc_channels = 4
    fully = cl.FullyConnected2D if rank == 2 else cl.FullyConnected1D
    units = math.prod(fc_spatial) * fc_channels
    cases.append(
        Case(
            f"fullyconnected{rank}d",
            "parity",
            f"B={BATCH} {'×'.join(map(str, fc_spatial))}×{fc_channels} → same shape",
            (BATCH, *fc_spatial, fc_channels),
            {
                "keras Dense (flattened)": flattened_dense(units, (*fc_spatial, fc_channels)),
                fully.__name__: keras_layer(lambda: fully(fc_channels)),
            },
            "keras Dense (flattened)",
        )
    )
    return cases


def fft_case(size, batch, channels=1):
    import constrained_layers as cl

    impls = {
        impl: keras_layer(lambda impl=impl: cl.SharedConv(implementation=impl)) for impl in ("direct", "fft", "auto")
    }
    shape = f"B={batch} {size}×{size}×{channels}, whole-image kernel {2 * size - 1}×{2 * size - 1} same"
    return Case(f"sharedconv-whole-{size}", "fft", shape, (batch, size, size, channels), impls, "direct")


def build_cases(quick=False):
    """Every case of the run, in table order."""
    if quick:
        cases = [locally_connected_case("lc2d-base", BATCH, (28, 28), 8, 16, 5, tf_keras_impls=(1,), quick=True)]
        cases += [c for c in parity_cases(2, quick=True) if c.name != "multichannelconv2d-circular"]
        cases += [fft_case(28, 32), fft_case(64, 2)]
        return cases
    # The base shape of the issue; more channels and a larger image at a
    # batch of 32, where tf-keras's implementations still fit in memory;
    # the same at a batch of 128 (tf-keras skipped: see the table).
    cases = [
        locally_connected_case("lc2d-base", BATCH, (28, 28), 8, 16, 5),
        locally_connected_case("lc2d-channels-b32", 32, (28, 28), 32, 32, 5),
        locally_connected_case("lc2d-image-b32", 32, (42, 42), 8, 16, 5),
        locally_connected_case("lc2d-channels", BATCH, (28, 28), 32, 32, 5, tf_keras_impls=(1, 2)),
        locally_connected_case("lc2d-image", BATCH, (56, 56), 8, 16, 5, tf_keras_impls=(1, 2)),
        locally_connected_case("lc1d-base", BATCH, (784,), 8, 16, 5),
        locally_connected_case("lc1d-channels", BATCH, (784,), 32, 32, 5, tf_keras_impls=(1, 2)),
    ]
    cases += parity_cases(2, quick=False) + parity_cases(1, quick=False)
    cases += [fft_case(28, BATCH), fft_case(64, 16)]
    return cases


def find(name, quick=False):
    for case in build_cases(quick=quick):
        if case.name == name:
            return case
    raise ValueError(f"Unknown benchmark case {name!r}.")

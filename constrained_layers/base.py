"""The rank-generic bases that every constrained layer is a thin subclass of.

`ConstrainedLayer` holds what all four families share, as Keras's `BaseConv`
does for Conv1D/2D/3D: argument normalization, weights whose shapes come from
one method (`weight_shapes`, which `count_params` also reads), clear errors at
build, and `call` = op, bias, activation. `WindowedLayer` adds the window
(Δ or kernel size), strides, padding, boundary mode and kernel flipping shared
by the three local families.
"""

import itertools
import math
import numbers

import keras
from keras import activations, constraints, initializers, ops, regularizers
from keras.layers import InputSpec

from constrained_layers import _boundary, _fft, _validation


class ConstrainedLayer(keras.layers.Layer):
    """Base of the constrained layers: weights, bias, activation, config.

    Subclasses implement `weight_shapes(input_shape)`, `_output_spatial`,
    `_apply_kernel(inputs)` and, where the fan of the kernel is not what
    Keras infers from its shape, `_kernel_fan_axes`.
    """

    #: Whether the weights' shapes depend on the spatial size of the input.
    needs_spatial_size = False
    #: Whether the layer takes `filters` (SharedConv keeps the channels).
    has_filters = True

    def __init__(
        self,
        rank,
        filters=None,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = _validation.positive_int(filters, "filters") if self.has_filters else None
        if not isinstance(use_bias, bool):
            raise TypeError(
                "Invalid type for argument `use_bias`. Expected a bool. "
                f"Received: use_bias={use_bias!r}"
            )
        self.use_bias = use_bias
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = False

    # ----------------------------------------------------------------- shapes
    def _check_input_shape(self, input_shape):
        """Validates rank, channels and (where needed) spatial size."""
        input_shape = tuple(input_shape)
        expected = self.rank + 2
        axes = ("steps",) if self.rank == 1 else ("height", "width")
        layout = ", ".join(("batch", *axes, "channels"))
        if len(input_shape) != expected:
            raise ValueError(
                f"`{type(self).__name__}` expects inputs of rank {expected}, "
                f"({layout}). Received: input_shape={input_shape}"
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"`{type(self).__name__}` needs a known number of channels "
                f"(the last axis). Received: input_shape={input_shape}"
            )
        if self.needs_spatial_size and None in input_shape[1:-1]:
            raise ValueError(
                f"`{type(self).__name__}` with this configuration has weights "
                f"whose shape depends on the input's spatial size ({', '.join(axes)}), "
                f"so that size must be known when the layer is built. "
                f"Received: input_shape={input_shape}"
            )
        return input_shape

    def weight_shapes(self, input_shape):
        """The shapes of the layer's weights for inputs of `input_shape`.

        Args:
            input_shape: shape including the batch axis, e.g.
                `(None, 28, 28, 1)`.

        Returns:
            A dict `{"kernel": shape, "bias": shape}` ("bias" only when
            `use_bias`). Nothing is allocated: `count_params` reads this.
        """
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        return (input_shape[0], *self._output_spatial(input_shape), self._output_channels(input_shape))

    def _output_channels(self, input_shape):
        return self.filters

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)  # impossible shapes fail here
        shapes = self.weight_shapes(input_shape)
        self._check_size(input_shape, shapes)
        self.kernel = self.add_weight(
            name="kernel",
            shape=shapes["kernel"],
            initializer=self._fan_aware(self.kernel_initializer, shapes["kernel"]),
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=shapes["bias"],
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        pinned = range(1, self.rank + 1) if self.needs_spatial_size else ()
        self.input_spec = InputSpec(
            ndim=self.rank + 2,
            axes={-1: input_shape[-1], **{a: input_shape[a] for a in pinned}},
        )

    def _check_size(self, input_shape, shapes):
        """Hook for layers that refuse weights too large to allocate."""

    def _kernel_fan_axes(self, kernel_shape):
        """(input_axes, output_axes) of the kernel, or None for Keras's rule."""
        return None

    def _fan_aware(self, initializer, kernel_shape):
        """Gives variance-scaling initializers the kernel's true fans.

        Keras infers fans from a kernel's shape as if it were a convolution
        kernel; for a per-position (LocallyConnected), per-channel (SharedConv)
        or 6-D (FullyConnected) kernel that guess is wrong by a factor of the
        number of positions or channels, so Glorot/He would not keep the
        activations' variance. Other initializers are returned unchanged.
        """
        fan_axes = self._kernel_fan_axes(kernel_shape)
        if (
            fan_axes is None
            or not isinstance(initializer, initializers.VarianceScaling)
            or initializer.input_axes is not None
        ):
            return initializer
        return initializers.VarianceScaling(
            scale=initializer.scale,
            mode=initializer.mode,
            distribution=initializer.distribution,
            seed=initializer.seed,
            input_axes=fan_axes[0],
            output_axes=fan_axes[1],
        )

    # ------------------------------------------------------------------- call
    def call(self, inputs):
        outputs = self._apply_kernel(inputs)  # (B, *out_spatial, filters)
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        if self.filters is not None:
            config["filters"] = self.filters
        config.update(
            {
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
            }
        )
        return config


class WindowedLayer(ConstrainedLayer):
    """Base of the local families: a window of half-width Δ per axis.

    Adds `delta`/`kernel_size`, `strides`, `padding`, `padding_mode` and
    `convolution` to `ConstrainedLayer`. With `kernel_size=None` and
    `delta=None` (allowed only where `whole_input_window` is True) the window
    covers the whole input: offsets -(n-1)..n-1 along an axis of length n.
    """

    whole_input_window = False

    def __init__(
        self,
        rank,
        filters=None,
        delta=None,
        kernel_size=None,
        strides=1,
        padding="same",
        padding_mode="zeros",
        convolution=False,
        **kwargs,
    ):
        super().__init__(rank, filters=filters, **kwargs)
        self.kernel_size = _validation.window(delta, kernel_size, rank, self.whole_input_window)
        # As given (an int or a tuple), normalized so configs survive JSON.
        if delta is not None:
            delta = int(delta) if isinstance(delta, numbers.Integral) else tuple(int(d) for d in delta)
        self.delta = delta
        self.strides = _validation.int_tuple(strides, rank, "strides", 1)
        self.padding = _validation.choice(padding, "padding", _validation.PADDINGS)
        self.padding_mode = _validation.choice(padding_mode, "padding_mode", _validation.PADDING_MODES)
        if not isinstance(convolution, bool):
            raise TypeError(
                "Invalid type for argument `convolution`. Expected a bool. "
                f"Received: convolution={convolution!r}"
            )
        self.convolution = convolution

    @property
    def needs_spatial_size(self):
        return self.kernel_size is None

    def window_shape(self, input_shape):
        """The kernel's spatial shape for inputs of `input_shape`."""
        if self.kernel_size is not None:
            return self.kernel_size
        return tuple(2 * n - 1 for n in input_shape[1:-1])

    def _padding_amounts(self, input_shape):
        """One (before, after) pair per spatial axis; validates the boundary."""
        amounts = []
        window = self.window_shape(input_shape)
        for axis, (n, k, s) in enumerate(zip(input_shape[1:-1], window, self.strides), start=1):
            if n is None:
                if self.padding == "same" and s > 1 and self.padding_mode != "zeros":
                    raise ValueError(
                        f"`{type(self).__name__}` with padding='same', "
                        f"padding_mode={self.padding_mode!r} and strides>1 needs "
                        f"a known input size to place the padding. Received: "
                        f"input_shape={tuple(input_shape)}"
                    )
                amounts.append(_boundary.padding_amounts(n, k, 1, self.padding))
                continue
            before, after = _boundary.padding_amounts(n, k, s, self.padding)
            limit = _boundary.max_padding(self.padding_mode, n)
            if limit is not None and max(before, after) > limit:
                raise ValueError(
                    f"padding_mode={self.padding_mode!r} can pad at most {limit} "
                    f"pixels on an axis of length {n}, but kernel_size={window} "
                    f"with padding='same' needs {max(before, after)} on axis {axis}. "
                    f"Use a smaller window or padding_mode='zeros'. Received: "
                    f"input_shape={tuple(input_shape)}"
                )
            amounts.append((before, after))
        return amounts

    def _output_spatial(self, input_shape):
        self._padding_amounts(input_shape)  # validates the boundary
        window = self.window_shape(input_shape)
        sizes = []
        for n, k, s in zip(input_shape[1:-1], window, self.strides):
            size = _boundary.output_length(n, k, s, self.padding)
            if size is not None and size < 1:
                raise ValueError(
                    f"`{type(self).__name__}` with kernel_size={window}, "
                    f"strides={self.strides} and padding='valid' would produce "
                    f"an empty output: the window is larger than the input. "
                    f"Received: input_shape={tuple(input_shape)}"
                )
            sizes.append(size)
        return tuple(sizes)

    def _padded(self, inputs, native_zeros=True):
        """Returns (inputs padded for the boundary, padding for the op).

        Zero padding is left to the op itself ("same") when `native_zeros`,
        which is what the built-in layers do; the other modes pad explicitly
        and run the op with "valid".
        """
        if native_zeros and self.padding_mode == "zeros":
            return inputs, self.padding
        amounts = self._padding_amounts(tuple(inputs.shape))
        if self.padding_mode == "circular" and None not in inputs.shape[1:-1]:
            return _circular_pad(inputs, amounts), "valid"
        return _boundary.pad(inputs, amounts, self.padding_mode), "valid"

    def build(self, input_shape):
        if getattr(self, "implementation", None) == "fft":
            self._implementation_for(input_shape)  # fails early without a spatial size
        super().build(input_shape)

    def _implementation_for(self, input_shape, depthwise=False):
        """"direct" or "fft" for inputs of `input_shape` (layers with `implementation`)."""
        spatial = tuple(input_shape[1:-1])
        choice = _fft.choose(self.implementation, spatial, self.window_shape(input_shape), depthwise)
        if choice == "fft" and None in spatial:
            raise ValueError(
                f"`{type(self).__name__}` with implementation='fft' needs the "
                f"input's spatial size (the transform length). Use "
                f"implementation='auto' or 'direct' for inputs of varying size. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        return choice

    def _oriented(self, kernel, spatial_axes):
        """Flips the kernel for a true convolution (eq. 7.1.6), else as is."""
        if not self.convolution:
            return kernel
        return ops.flip(kernel, axis=spatial_axes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "delta": self.delta,
                "kernel_size": None if self.delta is not None else self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "padding_mode": self.padding_mode,
                "convolution": self.convolution,
            }
        )
        if hasattr(self, "implementation"):
            config["implementation"] = self.implementation
        return config


def _circular_pad(x, amounts):
    """`_boundary.pad(x, amounts, "circular")` for a known spatial size.

    Built from `ops.slice` (contiguous blocks, whose gradient is a pad) rather
    than strided slicing: the same numbers, measured 1.2-1.3× faster for a
    training step of SharedConv (BENCHMARKS.md).
    """
    for axis, (before, after) in enumerate(amounts, start=1):
        n = x.shape[axis]
        parts = []
        for start, size in ((n - before, before), (0, n), (0, after)):
            if size == 0:
                continue
            if size == n:
                parts.append(x)
                continue
            begin = [0] * len(x.shape)
            begin[axis] = start
            shape = [-1 if d is None else d for d in x.shape]
            shape[axis] = size
            parts.append(ops.slice(x, begin, shape))
        x = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=axis)
    return x


def window_offsets(window):
    """Every kernel tap, row-major: (0, 0), (0, 1), ..., (kh-1, kw-1)."""
    return itertools.product(*(range(k) for k in window))


def prod(values):
    return math.prod(values)


def format_bytes(n):
    """1234567 -> "1.2 MB" (decimal units, as disks and the text count)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000

"""The rank-generic bases that every constrained layer is a thin subclass of.

`ConstrainedLayer` holds what all four families share, as Keras's `BaseConv`
does for Conv1D/2D/3D: argument normalization, `data_format` (everything
inside is channels-last), weights whose shapes come from one method
(`weight_shapes`, which `count_params` also reads, validated as `build`
validates), clear errors, and `call` = op, bias, activation.
`WindowedLayer` adds the window (kernel size or Δ), strides, padding,
dilation, boundary mode and kernel flipping shared by the three local
families. `TranslationInvariantLayer` adds the shared kernel and the choice
of direct or FFT computation of `SharedConv` and `MultiChannelConv` (and of
the R shared kernels of `LowRankLocallyConnected`).
"""

import itertools
import math
import numbers

import keras
from keras import activations, constraints, initializers, ops, regularizers
from keras.layers import InputSpec

from constrained_layers import _boundary, _fft, _validation


class ConstrainedLayer(keras.layers.Layer):
    """Base of the constrained layers: data format, weights, bias, activation, config.

    Everything inside works on channels-last shapes: a `channels_first`
    layer transposes its input to channels-last, computes, and transposes
    the output back (the weights' layout does not depend on `data_format`).
    Subclasses implement `_weight_shapes(input_shape)`, `_output_spatial`,
    `_apply_kernel(inputs)` and, where the fans of the kernel are not what
    Keras infers from its shape, `_kernel_fan_view`.
    """

    #: Whether the weights' shapes depend on the spatial size of the input.
    needs_spatial_size = False
    #: Whether the layer takes `filters` (SharedConv keeps the channels).
    has_filters = True

    def __init__(
        self,
        rank,
        filters=None,
        data_format=None,
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
        self.data_format = _validation.data_format(data_format)
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

    # ------------------------------------------------------------ data format
    @property
    def _channels_first(self):
        return self.data_format == "channels_first"

    def _channels_last_shape(self, shape):
        """(B, C, *S) -> (B, *S, C) for channels_first; as is otherwise."""
        shape = tuple(shape)
        return (shape[0], *shape[2:], shape[1]) if self._channels_first else shape

    def _data_format_shape(self, shape):
        """(B, *S, C) -> (B, C, *S) for channels_first; as is otherwise."""
        shape = tuple(shape)
        return (shape[0], shape[-1], *shape[1:-1]) if self._channels_first else shape

    def _to_channels_last(self, x):
        if not self._channels_first:
            return x
        return ops.transpose(x, (0, *range(2, self.rank + 2), 1))  # (B, C, *S) -> (B, *S, C)

    def _from_channels_last(self, x):
        if not self._channels_first:
            return x
        return ops.transpose(x, (0, self.rank + 1, *range(1, self.rank + 1)))  # (B, *S, C) -> (B, C, *S)

    # ----------------------------------------------------------------- shapes
    def _check_input_shape(self, input_shape):
        """Validates rank, channels and (where needed) spatial size.

        Returns:
            The input shape, channels-last: what every other method reads.
        """
        input_shape = tuple(input_shape)
        expected = self.rank + 2
        axes = ("steps",) if self.rank == 1 else ("height", "width")
        names = ("batch", "channels", *axes) if self._channels_first else ("batch", *axes, "channels")
        layout = ", ".join(names)
        if len(input_shape) != expected:
            raise ValueError(
                f"`{type(self).__name__}` expects inputs of rank {expected}, "
                f"({layout}). Received: input_shape={input_shape}"
            )
        shape = self._channels_last_shape(input_shape)
        if shape[-1] is None:
            where = "axis 1, data_format='channels_first'" if self._channels_first else "the last axis"
            raise ValueError(
                f"`{type(self).__name__}` needs a known number of channels "
                f"({where}). Received: input_shape={input_shape}"
            )
        if self.needs_spatial_size and None in shape[1:-1]:
            raise ValueError(
                f"`{type(self).__name__}` with this configuration has weights "
                f"whose shape depends on the input's spatial size ({', '.join(axes)}), "
                f"so that size must be known when the layer is built. "
                f"Received: input_shape={input_shape}"
            )
        return shape

    def weight_shapes(self, input_shape):
        """The shapes of the layer's weights for inputs of `input_shape`.

        Validates `input_shape` as `build` does, so that a configuration
        that cannot be built is refused here with the same message.

        Args:
            input_shape: shape including the batch axis, in the layer's
                `data_format`, e.g. `(None, 28, 28, 1)`.

        Returns:
            A dict `{"kernel": shape, "bias": shape}` ("bias" only when
            `use_bias`). Nothing is allocated: `count_params` reads this.
        """
        return self._validated(input_shape)[1]

    def _validated(self, input_shape):
        """(channels-last input shape, weight shapes), validated as `build` needs."""
        shape = self._check_input_shape(input_shape)
        self._output_spatial(shape)  # impossible shapes fail here
        return shape, self._weight_shapes(shape)

    def _weight_shapes(self, input_shape):
        """`weight_shapes` for a validated channels-last `input_shape`."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        shape = self._check_input_shape(input_shape)
        output = (shape[0], *self._output_spatial(shape), self._output_channels(shape))
        return self._data_format_shape(output)

    def _output_channels(self, input_shape):
        return self.filters

    # ------------------------------------------------------------------ build
    def build(self, input_shape):
        shape, shapes = self._validated(input_shape)
        self._check_size(shape, shapes)
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
        spatial_axes = range(2, self.rank + 2) if self._channels_first else range(1, self.rank + 1)
        pinned = {a: input_shape[a] for a in spatial_axes} if self.needs_spatial_size else {}
        self.input_spec = InputSpec(
            ndim=self.rank + 2,
            axes={(1 if self._channels_first else -1): shape[-1], **pinned},
        )

    def _check_size(self, input_shape, shapes):
        """Hook for layers that refuse weights too large to allocate."""

    def _kernel_fan_view(self, kernel_shape):
        """How the kernel's fans are read, or None for Keras's rule.

        Returns:
            (view_shape, input_axes, output_axes): the kernel seen with
            shape `view_shape` (same size) has fan-in = the product of
            `input_axes` and fan-out = the product of `output_axes`.
        """
        return None

    def _fan_aware(self, initializer, kernel_shape):
        """Gives variance-scaling initializers the kernel's true fans.

        Keras infers fans from a kernel's shape as if it were a convolution
        kernel; for a per-position (LocallyConnected), per-channel (SharedConv)
        or 6-D (FullyConnected) kernel that guess is wrong by a factor of the
        number of positions or channels, so Glorot/He would not keep the
        activations' variance. Other initializers are returned unchanged.
        """
        view = self._kernel_fan_view(kernel_shape)
        if (
            view is None
            or not isinstance(initializer, initializers.VarianceScaling)
            or initializer.input_axes is not None
        ):
            return initializer
        view_shape, input_axes, output_axes = view
        fitted = initializers.VarianceScaling(
            scale=initializer.scale,
            mode=initializer.mode,
            distribution=initializer.distribution,
            seed=initializer.seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )
        if tuple(view_shape) == tuple(kernel_shape):
            return fitted
        return _Reshaped(fitted, view_shape)

    # ------------------------------------------------------------------- call
    def call(self, inputs):
        x = self._to_channels_last(inputs)  # (B, *S, C)
        outputs = self._apply_kernel(x)  # (B, *out_spatial, filters)
        if self.use_bias:
            outputs = ops.add(outputs, self._call_bias())
        outputs = self._from_channels_last(outputs)  # in `data_format`
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def _call_bias(self):
        """The bias as it is added to the channels-last output."""
        return self.bias

    def get_config(self):
        config = super().get_config()
        if self.filters is not None:
            config["filters"] = self.filters
        config.update(
            {
                "data_format": self.data_format,
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

    @classmethod
    def from_config(cls, config):
        # Configs saved before `data_format` existed were all channels-last,
        # whatever `keras.config.image_data_format()` is where they load.
        return cls(**{"data_format": "channels_last", **config})


class _Reshaped(initializers.Initializer):
    """Draws with `initializer` in `view_shape`, then reshapes to the kernel's shape."""

    def __init__(self, initializer, view_shape):
        self.initializer = initializer
        self.view_shape = tuple(view_shape)

    def __call__(self, shape, dtype=None):
        return ops.reshape(self.initializer(self.view_shape, dtype=dtype), shape)


class WindowedLayer(ConstrainedLayer):
    """Base of the local families: a window of half-width Δ per axis.

    Adds `kernel_size`/`delta`, `strides`, `padding`, `dilation_rate`,
    `padding_mode` and `convolution` to `ConstrainedLayer`. With
    `kernel_size=None` and `delta=None` (allowed only where
    `whole_input_window` is True) the window covers the whole input: offsets
    -(n-1)..n-1 along an axis of length n. A window of `kernel_size` k taps
    with dilation d spans d·(k-1)+1 pixels (its extent): what the padding
    and the output size follow.
    """

    whole_input_window = False

    def __init__(
        self,
        rank,
        filters=None,
        kernel_size=None,
        strides=1,
        padding="same",
        data_format=None,
        dilation_rate=1,
        *,
        delta=None,
        padding_mode="zeros",
        convolution=False,
        **kwargs,
    ):
        super().__init__(rank, filters=filters, data_format=data_format, **kwargs)
        self.kernel_size = _validation.window(delta, kernel_size, rank, self.whole_input_window)
        # As given (an int or a tuple), normalized so configs survive JSON.
        if delta is not None:
            delta = int(delta) if isinstance(delta, numbers.Integral) else tuple(int(d) for d in delta)
        self.delta = delta
        self.strides = _validation.int_tuple(strides, rank, "strides", 1)
        self.padding = _validation.padding(padding, rank)
        self.dilation_rate = _validation.int_tuple(dilation_rate, rank, "dilation_rate", 1)
        if self.kernel_size is None and self.dilated:
            raise ValueError(
                f"`{type(self).__name__}` with a whole-input window (neither "
                f"`kernel_size` nor `delta`) already sees every pixel: "
                f"`dilation_rate` needs a kernel_size or delta. Received: "
                f"dilation_rate={dilation_rate!r}"
            )
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

    @property
    def dilated(self):
        return any(d > 1 for d in self.dilation_rate)

    @property
    def strided(self):
        return any(s > 1 for s in self.strides)

    def window_shape(self, input_shape):
        """The kernel's spatial shape (taps) for channels-last `input_shape`."""
        if self.kernel_size is not None:
            return self.kernel_size
        return tuple(2 * n - 1 for n in input_shape[1:-1])

    def window_extent(self, input_shape):
        """The pixels the window spans per axis: dilation·(taps - 1) + 1."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.window_shape(input_shape), self.dilation_rate))

    def _native_padding(self):
        """Whether the built-in op can pad by itself (zeros, its own "same"/"valid").

        TensorFlow's convolution refuses strides and dilation together, so
        that case runs at stride 1 on an explicitly padded input, then
        subsamples; "causal" and the other modes pad explicitly.
        """
        return self.padding_mode == "zeros" and self.padding != "causal" and not (self.strided and self.dilated)

    def _padding_amounts(self, input_shape):
        """One (before, after) pair per spatial axis; validates the boundary."""
        amounts = []
        extent = self.window_extent(input_shape)
        for axis, (n, k, s) in enumerate(zip(input_shape[1:-1], extent, self.strides), start=1):
            if n is None:
                if self.padding == "same" and s > 1 and not self._native_padding():
                    why = (
                        f"padding_mode={self.padding_mode!r}"
                        if self.padding_mode != "zeros"
                        else f"dilation_rate={self.dilation_rate}"
                    )
                    raise ValueError(
                        f"`{type(self).__name__}` with padding='same', {why} and "
                        f"strides>1 needs a known input size to place the padding. "
                        f"Received: input_shape={self._data_format_shape(input_shape)}"
                    )
                amounts.append(_boundary.padding_amounts(n, k, 1, self.padding))
                continue
            before, after = _boundary.padding_amounts(n, k, s, self.padding)
            limit = _boundary.max_padding(self.padding_mode, n)
            if limit is not None and max(before, after) > limit:
                raise ValueError(
                    f"padding_mode={self.padding_mode!r} can pad at most {limit} "
                    f"pixels on an axis of length {n}, but {self._window_text(input_shape)} "
                    f"with padding={self.padding!r} needs {max(before, after)} on "
                    f"axis {axis}. Use a smaller window or padding_mode='zeros'. "
                    f"Received: input_shape={self._data_format_shape(input_shape)}"
                )
            amounts.append((before, after))
        return amounts

    def _output_spatial(self, input_shape):
        self._padding_amounts(input_shape)  # validates the boundary
        extent = self.window_extent(input_shape)
        sizes = []
        for n, k, s in zip(input_shape[1:-1], extent, self.strides):
            size = _boundary.output_length(n, k, s, self.padding)
            if size is not None and size < 1:
                raise ValueError(
                    f"`{type(self).__name__}` with {self._window_text(input_shape)}, "
                    f"strides={self.strides} and padding='valid' would produce an "
                    f"empty output: the window is larger than the input. "
                    f"Received: input_shape={self._data_format_shape(input_shape)}"
                )
            sizes.append(size)
        return tuple(sizes)

    def _window_text(self, input_shape):
        """"kernel_size=(3, 3)", with ", dilation_rate=(2, 2)" where dilated (for messages)."""
        text = f"kernel_size={self.window_shape(input_shape)}"
        return f"{text}, dilation_rate={self.dilation_rate}" if self.dilated else text

    def _padded(self, inputs, native=True):
        """Returns (inputs padded for the boundary, padding for the op).

        With `native`, zero padding is left to the op itself where it can
        (`_native_padding`), which is what the built-in layers do; otherwise
        the input is padded explicitly and the op runs with "valid".
        """
        if native and self._native_padding():
            return inputs, self.padding
        amounts = self._padding_amounts(tuple(inputs.shape))
        inputs = self._assert_padding_fits(inputs, amounts)
        return _boundary.pad(inputs, amounts, self.padding_mode), "valid"

    def _assert_padding_fits(self, x, amounts):
        """`x`, after the boundary check of `_padding_amounts` at run time,
        where the spatial size is unknown until then.

        Only TensorFlow's graphs have spatial sizes unknown when the layer
        is called (JAX traces with static shapes; eager calls know them).
        """
        extra = {"reflect": 1, "symmetric": 0, "circular": 0}.get(self.padding_mode)
        unknown = [axis for axis, n in enumerate(x.shape[1:-1], start=1) if n is None and max(amounts[axis - 1])]
        if extra is None or not unknown or keras.backend.backend() != "tensorflow":
            return x
        import tensorflow as tf

        checks = []
        for axis in unknown:
            needed = max(amounts[axis - 1])
            checks.append(
                tf.debugging.assert_greater_equal(
                    tf.shape(x)[axis],
                    needed + extra,
                    message=(
                        f"`{type(self).__name__}` ({self.name}): padding_mode="
                        f"{self.padding_mode!r} with kernel_size={self.kernel_size}, "
                        f"dilation_rate={self.dilation_rate} and padding={self.padding!r} "
                        f"pads {needed} pixels on spatial axis {axis}, so that axis must "
                        f"have at least {needed + extra} pixels. Use a smaller window "
                        f"or padding_mode='zeros'. Received an input of length"
                    ),
                )
            )
        with tf.control_dependencies(checks):  # the check runs before the padding
            return tf.identity(x)

    def _oriented(self, kernel, spatial_axes):
        """Flips the kernel for a true convolution (eq. 7.1.6), else as is."""
        if not self.convolution:
            return kernel
        return ops.flip(kernel, axis=spatial_axes)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "kernel_size": None if self.delta is not None else self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "delta": self.delta,
                "padding_mode": self.padding_mode,
                "convolution": self.convolution,
            }
        )
        return config


class TranslationInvariantLayer(WindowedLayer):
    """Base of SharedConv and MultiChannelConv: one kernel shared by every position.

    The two differ only in `depthwise`: SharedConv's kernel
    (*window, C, 1) keeps each channel apart (`ops.depthwise_conv`),
    MultiChannelConv's (*window, C, filters) mixes them (`ops.conv`). Both
    compute "direct" (the built-in op) or "fft" (the convolution theorem,
    `_fft.correlate`), chosen by `implementation`.
    """

    #: True: one kernel per channel (SharedConv); False: channels mixed.
    depthwise = False

    def __init__(self, rank, filters=None, *args, implementation="auto", **kwargs):
        super().__init__(rank, filters, *args, **kwargs)
        self.implementation = _validation.choice(implementation, "implementation", _fft.IMPLEMENTATIONS)

    def _check_input_shape(self, input_shape):
        shape = super()._check_input_shape(input_shape)
        self._implementation_for(shape)  # "fft" needs the spatial size
        return shape

    def _output_channels(self, input_shape):
        return input_shape[-1] if self.depthwise else self.filters

    def _weight_shapes(self, input_shape):
        channels = input_shape[-1]
        out = 1 if self.depthwise else self.filters
        shapes = {"kernel": (*self.window_shape(input_shape), channels, out)}
        if self.use_bias:
            shapes["bias"] = (channels if self.depthwise else self.filters,)
        return shapes

    def _kernel_fan_view(self, kernel_shape):
        if not self.depthwise:
            return None  # Keras's rule is the convolution's: kh·kw·C in, kh·kw·F out
        # One channel's window: fan_in = fan_out = kh·kw (not kh·kw·C).
        window = tuple(range(self.rank))
        return kernel_shape, window, window

    def _implementation_for(self, input_shape):
        """"direct" or "fft" for channels-last inputs of `input_shape`."""
        spatial = tuple(input_shape[1:-1])
        choice = _fft.choose(self.implementation, spatial, self.window_shape(input_shape), self.depthwise)
        if choice == "fft" and None in spatial:
            raise ValueError(
                f"`{type(self).__name__}` with implementation='fft' needs the "
                f"input's spatial size (the transform length). Use "
                f"implementation='auto' or 'direct' for inputs of varying size. "
                f"Received: input_shape={self._data_format_shape(input_shape)}"
            )
        return choice

    def _apply_kernel(self, inputs):
        return self._correlate(inputs, self.kernel)  # (B, *out, C|F)

    def _correlate(self, inputs, kernel):
        """`inputs` (channels-last) correlated with one shared `kernel`.

        The layer's boundary, strides, dilation, flip and implementation
        applied to `kernel` of shape (*K, C, 1) (depthwise) or (*K, C, F'):
        `LowRankLocallyConnected` runs its R kernels through here as one of
        R·F channels.
        """
        kernel = self._oriented(kernel, tuple(range(self.rank)))  # (*K, C, 1 or F')
        input_shape = tuple(inputs.shape)
        if self._implementation_for(input_shape) == "fft":
            amounts = self._padding_amounts(input_shape)
            kernel = _fft.dilate(kernel, self.dilation_rate)  # (*extent, C, 1 or F)
            return _fft.correlate(inputs, kernel, self.strides, amounts, self.padding_mode, self.depthwise)
        op = ops.depthwise_conv if self.depthwise else ops.conv
        x, padding = self._padded(inputs)
        if self.strided and self.dilated:
            # TensorFlow's op takes one or the other: stride 1, then subsample.
            y = op(x, kernel, strides=1, padding="valid", dilation_rate=self.dilation_rate)
            return y[(slice(None), *(slice(None, None, s) for s in self.strides), slice(None))]
        return op(x, kernel, strides=self.strides, padding=padding, dilation_rate=self.dilation_rate)  # (B, *out, C|F)

    def get_config(self):
        config = super().get_config()
        config["implementation"] = self.implementation
        return config


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

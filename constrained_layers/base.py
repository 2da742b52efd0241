"""`ConstrainedLayer`: the rank-generic base that every constrained layer is a subclass of.

It holds what all four families share, as Keras's `BaseConv` does for
Conv1D/2D/3D: argument normalization, `data_format` (everything inside is
channels-last), weights whose shapes come from one method (`weight_shapes`,
which `count_params` also reads, validated as `build` validates), clear
errors, and `call` = op, bias, activation. The local families build on it
in `windowed.py` (the window, strides, padding, dilation, boundary mode) and
`translation_invariant.py` (one kernel shared by every position, computed
directly or by FFT).
"""

import keras
from keras import activations, constraints, initializers, ops, regularizers
from keras.layers import InputSpec

from constrained_layers import _validation


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

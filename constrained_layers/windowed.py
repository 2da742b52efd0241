"""`WindowedLayer`: the base of the local families, a window of half-width Δ per axis.

Adds to `ConstrainedLayer` the window (kernel size or Δ), strides, padding,
dilation, boundary mode and kernel flipping that `LocallyConnected`,
`LowRankLocallyConnected`, `SharedConv` and `MultiChannelConv` share.
"""

import itertools
import numbers

import keras
from keras import ops

from constrained_layers import _boundary, _validation
from constrained_layers.base import ConstrainedLayer


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


def window_offsets(window):
    """Every kernel tap, row-major: (0, 0), (0, 1), ..., (kh-1, kw-1)."""
    return itertools.product(*(range(k) for k in window))

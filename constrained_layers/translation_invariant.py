"""`TranslationInvariantLayer`: one kernel shared by every position (`SharedConv`, `MultiChannelConv`).

Adds to `WindowedLayer` the shared kernel and the choice of direct or FFT
computation (also the R shared kernels of `LowRankLocallyConnected`).
"""

from keras import ops

from constrained_layers import _fft, _validation
from constrained_layers.windowed import WindowedLayer


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

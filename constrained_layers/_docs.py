"""Docstring fragments shared by the public layers (one wording, one place)."""

WINDOW_ARGS = """
        kernel_size: the window's side as Keras names it (an int or a tuple;
            even sizes allowed, with Keras's placement of the extra tap).
            Pass exactly one of `kernel_size` and `delta`.
        strides: step between output positions, an int or a tuple.
            Default: 1.
        padding: "same" (default: with stride 1 the output keeps the input's
            spatial shape, as in the text), "valid" (no padding) or, for the
            1D layers, "causal" (all the padding before the sequence: the
            output at step t sees only inputs up to t, as Keras's Conv1D).
        data_format: "channels_last" (inputs `(batch, *spatial, channels)`)
            or "channels_first" (`(batch, channels, *spatial)`). Default:
            `keras.config.image_data_format()`. The weights' layout does not
            depend on it.
        dilation_rate: spacing between the kernel's taps, an int or a tuple
            (Keras's dilated convolution): a window of k taps spans
            dilation_rate·(k-1)+1 pixels. Default: 1. Unlike Keras's layers,
            strides and dilation may both exceed 1.
        delta: keyword-only; the window's half-width Δ of the text (an int
            >= 0, or a tuple with one per spatial axis): offsets -Δ..Δ,
            kernel side 2Δ+1.
        padding_mode: keyword-only; what the padding fills the boundary with
            (§7.1, exercise 5): "zeros" (default, as Keras), "reflect"
            (mirror, edge not repeated), "symmetric" (mirror, edge repeated)
            or "circular" (wrap around: the layer is then exactly
            equivariant to circular shifts).
        convolution: keyword-only; False (default) computes the
            cross-correlation of eq. (7.1.3), as every deep learning library
            does; True flips the kernel and computes a true convolution,
            eq. (7.1.6) (for even kernels, with Keras's placement of the
            extra tap)."""

COMMON_ARGS = """
        activation: activation applied to the output (`keras.activations`
            name or callable). Default: none.
        use_bias: whether to add the bias. Default: True.
        kernel_initializer: initializer of the kernel. Default:
            "glorot_uniform". Variance-scaling initializers (Glorot, He,
            LeCun) are given the kernel's true fan-in and fan-out: the inputs
            and outputs one weight connects, not what Keras would guess from
            the kernel's shape.
        bias_initializer: initializer of the bias. Default: "zeros".
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as in Keras's layers.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`, ...).

    The arguments from `activation` on are keyword-only."""

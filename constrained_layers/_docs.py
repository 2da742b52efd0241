"""Docstring fragments shared by the public layers (one wording, one place)."""

WINDOW_ARGS = """
        delta: the window's half-width Δ of the text (an int >= 0, or a
            tuple with one per spatial axis): offsets -Δ..Δ, kernel side
            2Δ+1. Pass exactly one of `delta` and `kernel_size`.
        kernel_size: the window's side as Keras names it (an int or a tuple;
            even sizes allowed, with Keras's placement of the extra tap).
        strides: step between output positions, an int or a tuple.
            Default: 1.
        padding: "same" (default: with stride 1 the output keeps the input's
            spatial shape, as in the text) or "valid" (no padding).
        padding_mode: what "same" padding fills the boundary with (§7.1,
            exercise 5): "zeros" (default, as Keras), "reflect" (mirror,
            edge not repeated), "symmetric" (mirror, edge repeated) or
            "circular" (wrap around: the layer is then exactly equivariant to
            circular shifts).
        convolution: False (default) computes the cross-correlation of
            eq. (7.1.3), as every deep learning library does; True flips the
            kernel and computes a true convolution, eq. (7.1.6) (for even
            kernels, with Keras's placement of the extra tap)."""

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
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`, ...)."""

"""LowRankLocallyConnected1D/2D: locality with partial weight sharing.

    H[i,j,d] = Σ_r w[i,j,r] · (u[r,d] + Σ_{a,b,c} V_r[a,b,c,d] · X[i+a, j+b, c])

Between the two ends of §7.1's derivation: the locally connected layer's
kernel V[i,j] (eq. 7.1.1 restricted to a window, one kernel per position)
is constrained to a combination of R shared kernels,
V[i,j] = Σ_r w[i,j,r] · V_r, with mixing weights w that depend on the
position (Elsayed et al. 2020, "Revisiting spatial invariance with low-rank
local connectivity"). Stacked as a (positions × kernel entries) matrix, the
per-position kernels have rank at most R: R = 1 with the same w everywhere
is the convolution of eq. (7.1.7); R = number of positions with one-hot w
is the locally connected layer.

The paper's parameterization (`mixing_normalization="softmax"`,
`mixing_factorization="row_column"`, and the default
`mixing_initializer="convolution"`) is described, with its sources, in
`constrained_layers._mixing`: w = softmax_r(θ), θ[i,j,r] = a[i,r] + b[j,r].

How it is computed. Never kernel by kernel: the R kernels run as one
convolution to R·F channels (the shared convolution of `MultiChannelConv`,
with its boundary modes, strides, dilation, flip and FFT), and each output
position then combines its R results with its own weights, a sum over r.
That is R times a convolution's multiply-adds, plus P·R·F for the
combination.
"""

import keras
from keras import constraints, initializers, ops, regularizers

from constrained_layers import _mixing, _validation
from constrained_layers._docs import COMMON_ARGS, WINDOW_ARGS
from constrained_layers._fft import IMPLEMENTATION_ARG
from constrained_layers.translation_invariant import TranslationInvariantLayer

#: The arguments the low-rank layers add, documented once for both ranks.
LOW_RANK_ARGS = """
        num_kernels: keyword-only; R, the number of shared kernels (the
            rank of the per-position kernels), an int >= 1. R = 1 with
            constant mixing weights is a convolution; R = number of output
            positions with one-hot mixing weights, a locally connected
            layer.
        mixing_normalization: keyword-only; None (default: w is the mixing
            weight itself) or "softmax": w[p,r] = exp θ[p,r] / Σ_s exp θ[p,s],
            positive weights summing to 1 at each position, the weights
            holding the logits θ (Elsayed et al. 2020). Needs R >= 2.
        mixing_factorization: keyword-only; None (default: one θ[p,r] per
            output position, weight `mixing` (*out, R)) or, for the 2D
            layer only, "row_column": θ[i,j,r] = a[i,r] + b[j,r], the sum of
            a per-row and a per-column term (before the softmax, if any),
            weights `mixing_rows` (H', R) and `mixing_columns` (W', R):
            (H' + W')·R mixing weights instead of H'·W'·R.
        mixing_initializer: keyword-only; initializer of the mixing weights
            (every one of them when factored). Default (None, or
            "convolution"): the constant that gives every position the same
            w, so that the layer starts as a convolution (translation-
            equivariant away from the boundary): θ = 1/√R (1/(2√R) for each
            of a and b when factored), or 0 under the softmax (w = 1/R).
            Variance-scaling kernel initializers draw each V_r with the
            convolution's fans (and, under the softmax, where w_r = 1/R,
            R times the variance), so that the kernel every position starts
            with, Σ_r w_r V_r, has one convolution kernel's variance: the
            convolution at its own initial scale, free to unshare.
        mixing_regularizer, mixing_constraint: keyword-only; as the kernel's,
            for the mixing weights (the logits under the softmax)."""


class BaseLowRankLocallyConnected(TranslationInvariantLayer):
    """Rank-generic low-rank locally connected layer; see `LowRankLocallyConnected`.

    A `TranslationInvariantLayer` for its R shared kernels (one correlation
    to R·F channels, `_correlate`), plus position-dependent mixing weights,
    whose shape follows the output's spatial size. The public layers fix
    `rank` (a class attribute) and carry the docstring.
    """

    depthwise = False
    needs_spatial_size = True

    def __init__(
        self,
        filters,
        kernel_size=None,
        strides=1,
        padding="same",
        data_format=None,
        dilation_rate=1,
        *,
        num_kernels=None,
        delta=None,
        padding_mode="zeros",
        convolution=False,
        implementation="auto",
        mixing_normalization=None,
        mixing_factorization=None,
        mixing_initializer=None,
        mixing_regularizer=None,
        mixing_constraint=None,
        **kwargs,
    ):
        super().__init__(self.rank, filters, kernel_size, strides, padding, data_format, dilation_rate, delta=delta,
                         padding_mode=padding_mode, convolution=convolution, implementation=implementation, **kwargs)
        self.num_kernels = _validation.positive_int(num_kernels, "num_kernels")
        self.mixing_normalization = _mixing.normalization(mixing_normalization)
        self.mixing_factorization = _mixing.factorization(mixing_factorization, self.rank, type(self).__name__)
        _mixing.check_combination(self.mixing_normalization, self.num_kernels)
        self.mixing_initializer = _mixing.initializer(
            mixing_initializer, self.num_kernels, self.mixing_normalization, self.mixing_factorization
        )
        self.mixing_regularizer = regularizers.get(mixing_regularizer)
        self.mixing_constraint = constraints.get(mixing_constraint)

    def _weight_shapes(self, input_shape):
        window = self.window_shape(input_shape)
        shapes = {"kernel": (*window, input_shape[-1], self.num_kernels, self.filters)}
        if self.use_bias:
            shapes["bias"] = (self.num_kernels, self.filters)
        shapes.update(
            _mixing.weight_shapes(self._output_spatial(input_shape), self.num_kernels, self.mixing_factorization)
        )
        return shapes

    def _kernel_fan_view(self, kernel_shape):
        # Each of the R kernels has the convolution's fans: kh·kw·C in,
        # kh·kw·filters out (not R times either).
        window = tuple(range(self.rank))
        return kernel_shape, (*window, self.rank), (*window, self.rank + 2)

    def _fan_aware(self, initializer, kernel_shape):
        # Under the softmax every position starts with the mean of the R
        # kernels, not their sum over √R: each V_r's variance ×R keeps the
        # convolution's initial scale.
        fitted = super()._fan_aware(initializer, kernel_shape)
        if self.mixing_normalization != "softmax" or not isinstance(fitted, initializers.VarianceScaling):
            return fitted
        return initializers.VarianceScaling(
            scale=fitted.scale * self.num_kernels, mode=fitted.mode, distribution=fitted.distribution,
            seed=fitted.seed, input_axes=fitted.input_axes, output_axes=fitted.output_axes,
        )

    def build(self, input_shape):
        super().build(input_shape)
        shapes = self._validated(input_shape)[1]
        self.mixing = self.mixing_rows = self.mixing_columns = None
        for name in _mixing.weight_shapes((None,) * self.rank, 1, self.mixing_factorization):
            variable = self.add_weight(
                name=name,
                shape=shapes[name],
                initializer=self.mixing_initializer,
                regularizer=self.mixing_regularizer,
                constraint=self.mixing_constraint,
            )
            setattr(self, name, variable)

    def mixing_weights(self):
        """w, the weights each position mixes the R kernels with: (*out, R).

        The `mixing` weight itself by default; under the options, what they
        make of the weights (a softmax of the logits, the sum of the row and
        column terms). The layer must be built.
        """
        names = _mixing.weight_shapes((None,) * self.rank, 1, self.mixing_factorization)
        return _mixing.combine(
            {name: getattr(self, name) for name in names}, self.mixing_normalization, self.mixing_factorization
        )

    def _mix(self, values, mixing):
        """Σ_r w[p, r] · values[..., p, r, :]: each position's combination.

        `values` is (B, *out, R, F) (the R kernels' outputs) or (R, F) (the
        biases); `mixing` is w, (*out, R). A broadcast multiply and a sum
        over r: measured faster than the equivalent einsum in a TensorFlow
        training step, the same on JAX.
        """
        return ops.sum(ops.multiply(values, ops.expand_dims(mixing, -1)), axis=-2)  # (B, *out, F) or (*out, F)

    def _apply_kernel(self, inputs):
        channels = inputs.shape[-1]
        window = self.kernel.shape[: self.rank]
        kernels = ops.reshape(self.kernel, (*window, channels, self.num_kernels * self.filters))  # (*K, C, R·F)
        y = self._correlate(inputs, kernels)  # (B, *out, R·F): the R kernels' outputs
        y = ops.reshape(y, (-1, *y.shape[1:-1], self.num_kernels, self.filters))  # (B, *out, R, F)
        return self._mix(y, self.mixing_weights())  # (B, *out, F)

    def _call_bias(self):
        return self._mix(self.bias, self.mixing_weights())  # Σ_r w[p, r] · u_r: (*out, F)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_kernels": self.num_kernels,
                "mixing_initializer": initializers.serialize(self.mixing_initializer),
                "mixing_regularizer": regularizers.serialize(self.mixing_regularizer),
                "mixing_constraint": constraints.serialize(self.mixing_constraint),
            }
        )
        # Written only when set: the default layer's config (and so the
        # fingerprint of every model saved before these options) is unchanged.
        for option in ("mixing_normalization", "mixing_factorization"):
            if getattr(self, option) is not None:
                config[option] = getattr(self, option)
        return config


@keras.saving.register_keras_serializable(package="constrained_layers")
class LowRankLocallyConnected(BaseLowRankLocallyConnected):
    __doc__ = f"""Low-rank locally connected 2D layer: locality, sharing in part.

    H[i,j,d] = Σ_r w[i,j,r] · (u[r,d] + Σ_{{a,b,c}} V_r[a,b,c,d] · X[i+a, j+b, c]):
    at each position (i, j) the kernel is V[i,j] = Σ_r w[i,j,r] · V_r, a
    combination of R = `num_kernels` shared kernels, and the bias
    U[i,j] = Σ_r w[i,j,r] · u_r likewise (Elsayed et al. 2020). It sits
    between the locality without sharing of `LocallyConnected` (eq. 7.1.1
    restricted to a window) and the translation invariance of
    `MultiChannelConv` (eqs. 7.1.3 and 7.1.7), and both are exact special
    cases: R = 1 with w = 1 everywhere is `MultiChannelConv` with kernel V_1
    and bias u_1; R = H'·W' with w[p, r] = 1 if r = p (else 0) is
    `LocallyConnected` with kernel V_p and bias u_p at position p. Computed
    as one convolution to R·filters channels, then a per-position
    combination: the per-position kernels are never formed.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{LOW_RANK_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        4D tensor `(batch, H, W, C)` (channels_first: `(batch, C, H, W)`)
        with H, W and C known.

    Output shape:
        4D tensor `(batch, H', W', filters)` (channels_first:
        `(batch, filters, H', W')`); with padding="same",
        H' = ceil(H / stride).

    Weights (whatever the `data_format`):
        kernel `(kh, kw, C, R, filters)`: V_r is `kernel[..., r, :]`;
        bias `(R, filters)`; mixing `(H', W', R)`: w (θ under the softmax),
        or, factored, mixing_rows `(H', R)` and mixing_columns `(W', R)`.
        `mixing_weights()` returns w as applied, `(H', W', R)`.

    Example:

    >>> layer = LowRankLocallyConnected(8, 3, num_kernels=4)
    >>> layer(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> [tuple(w.shape) for w in layer.weights]
    [(3, 3, 1, 4, 8), (4, 8), (28, 28, 4)]

    Elsayed et al.'s parameterization: a softmax over the kernels of a row
    term plus a column term, starting as a convolution:

    >>> paper = LowRankLocallyConnected(8, 3, num_kernels=4, mixing_normalization="softmax",
    ...                                 mixing_factorization="row_column")
    >>> paper(np.zeros((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> [tuple(w.shape) for w in paper.weights]
    [(3, 3, 1, 4, 8), (4, 8), (28, 4), (28, 4)]
    """

    rank = 2


@keras.saving.register_keras_serializable(package="constrained_layers")
class LowRankLocallyConnected1D(BaseLowRankLocallyConnected):
    __doc__ = f"""Low-rank locally connected 1D layer: locality, sharing in part.

    H[i,d] = Σ_r w[i,r] · (u[r,d] + Σ_{{a,c}} V_r[a,c,d] · X[i+a, c]): the
    kernel at step i is Σ_r w[i,r] · V_r. R = 1 with w = 1 is
    `MultiChannelConv1D`; R = L' with one-hot w is `LocallyConnected1D`.

    Args:
        filters: number of output channels d.
{WINDOW_ARGS}
{LOW_RANK_ARGS}
{IMPLEMENTATION_ARG}
{COMMON_ARGS}

    Input shape:
        3D tensor `(batch, L, C)` (channels_first: `(batch, C, L)`) with L
        and C known.

    Output shape:
        3D tensor `(batch, L', filters)` (channels_first:
        `(batch, filters, L')`).

    Weights (whatever the `data_format`):
        kernel `(k, C, R, filters)`; bias `(R, filters)`; mixing `(L', R)`.

    Example:

    >>> LowRankLocallyConnected1D(4, 5, num_kernels=2)(np.zeros((3, 40, 1))).shape
    (3, 40, 4)
    """

    rank = 1

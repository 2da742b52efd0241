"""The low-rank layers' mixing weights w[p, r]: free, softmax-normalized, factored into rows and columns.

The options follow Elsayed et al. (2020), "Revisiting spatial invariance
with low-rank local connectivity" (ICML), and their reference
implementation (google-research/google-research,
`low_rank_local_connectivity/layers.py`: `normalize_weights="softmax"`,
`share_row_combining_weights` with `share_col_combining_weights`, and
`combining_weights_initializer="conv_init"`):

- `mixing_normalization=None`: w = the weight as it is (θ below).
  `"softmax"`: w[p, r] = exp θ[p, r] / Σ_s exp θ[p, s], so each position's
  weights are positive and sum to 1 (θ: logits).
- `mixing_factorization=None`: θ[i, j, r] is free (one value per position
  and kernel). `"row_column"` (two spatial axes only):
  θ[i, j, r] = a[i, r] + b[j, r], a per-row term plus a per-column term
  (the reference adds the two before the softmax), (H' + W')·R weights
  instead of H'·W'·R.
- `mixing_initializer="convolution"` (the default): the constant θ that
  makes w the same at every position, so that at initialization every
  position has the kernel Σ_r w_r V_r and the layer is a convolution
  (translation-equivariant away from the boundary): θ = 1/√R free
  (a + b = 1/√R, a = b = 1/(2√R), factored), the reference's `conv_init`;
  θ = 0 under the softmax (w = 1/R).
"""

import math

from keras import initializers, ops

NORMALIZATIONS = (None, "softmax")
FACTORIZATIONS = (None, "row_column")
#: The initializer name that starts the layer as a convolution.
CONVOLUTION = "convolution"


def normalization(value):
    """`value` if it is None or "softmax", else a `ValueError` naming it."""
    if value not in NORMALIZATIONS:
        raise ValueError(
            "Invalid value for argument `mixing_normalization`. Expected one of "
            f"{list(NORMALIZATIONS)}. Received: mixing_normalization={value!r}"
        )
    return value


def factorization(value, rank, layer_name):
    """`value` if it is None or "row_column" (and the layer has two spatial axes), else a `ValueError`."""
    if value not in FACTORIZATIONS:
        raise ValueError(
            "Invalid value for argument `mixing_factorization`. Expected one of "
            f"{list(FACTORIZATIONS)}. Received: mixing_factorization={value!r}"
        )
    if value is not None and rank != 2:
        raise ValueError(
            f"Invalid value for argument `mixing_factorization`. `{layer_name}` has {rank} spatial "
            "axis: its mixing weights are already one per step, and a row × column factorization "
            f"needs two. Expected None. Received: mixing_factorization={value!r}"
        )
    return value


def check_combination(normalization_, num_kernels):
    """Refuses the softmax over one kernel: its weight would be 1 whatever it learned."""
    if normalization_ == "softmax" and num_kernels == 1:
        raise ValueError(
            "Invalid combination of arguments `mixing_normalization` and `num_kernels`: the softmax "
            "over one kernel is 1 at every position, so the mixing weights could never train (the "
            "layer is a convolution holding dead weights; use `MultiChannelConv` or num_kernels >= 2). "
            "Received: mixing_normalization='softmax', num_kernels=1"
        )


def initializer(value, num_kernels, normalization_, factorization_):
    """The mixing weights' Keras initializer; None or "convolution": the convolution's constant."""
    if value is None or (isinstance(value, str) and value == CONVOLUTION):
        if normalization_ == "softmax":
            return initializers.Constant(0.0)
        terms = 2 if factorization_ == "row_column" else 1
        return initializers.Constant(1.0 / (terms * math.sqrt(num_kernels)))
    return initializers.get(value)


def weight_shapes(out_spatial, num_kernels, factorization_):
    """{weight name: shape} of the mixing weights for an output of `out_spatial` positions."""
    if factorization_ == "row_column":
        rows, columns = out_spatial
        return {"mixing_rows": (rows, num_kernels), "mixing_columns": (columns, num_kernels)}
    return {"mixing": (*out_spatial, num_kernels)}


def combine(weights, normalization_, factorization_):
    """w (*out, R) from the mixing weights by name (`weight_shapes`'s), as the module docstring says."""
    if factorization_ == "row_column":
        theta = ops.add(  # a[i, r] + b[j, r]: (H', W', R)
            ops.expand_dims(weights["mixing_rows"], 1), ops.expand_dims(weights["mixing_columns"], 0)
        )
    else:
        theta = weights["mixing"]  # (*out, R)
    if normalization_ == "softmax":
        return ops.softmax(theta, axis=-1)
    return theta

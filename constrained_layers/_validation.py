"""Argument normalization and validation, the Keras way.

Every helper returns the normalized value or raises a `ValueError`/`TypeError`
that names the argument in backticks and quotes the value received, e.g.
"Invalid value for argument `delta`. Expected a non-negative integer.
Received: delta=-1".
"""

import numbers

import keras

PADDINGS = ("same", "valid", "causal")
PADDING_MODES = ("zeros", "reflect", "symmetric", "circular")
DATA_FORMATS = ("channels_last", "channels_first")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name):
    """Returns `value` as an int, or raises if it is not an integer >= 1."""
    if not _is_int(value):
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a positive integer. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly "
            f"positive value. Received: {name}={value!r}"
        )
    return int(value)


def int_tuple(value, rank, name, minimum):
    """Normalizes an int or a tuple of `rank` ints, each >= `minimum`.

    Like `keras.utils.standardize_tuple`, with messages that name `name`.
    """
    kind = "non-negative" if minimum == 0 else "positive"
    expected = f"a {kind} integer or a tuple of {rank} {kind} integers"
    if _is_int(value):
        values = (int(value),) * rank
    elif isinstance(value, (tuple, list)) and all(_is_int(v) for v in value):
        if len(value) != rank:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected {expected}. "
                f"Received: {name}={value!r} with {len(value)} elements"
            )
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected {expected}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if any(v < minimum for v in values):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {expected}. "
            f"Received: {name}={value!r}"
        )
    return values


def window(delta, kernel_size, rank, whole_input_allowed=False):
    """Resolves the window from exactly one of `delta` or `kernel_size`.

    Args:
        delta: D2L's half-width Δ (an int or a tuple of `rank` ints, >= 0),
            or None.
        kernel_size: Keras's kernel size (an int or a tuple, >= 1), or None.
        rank: number of spatial axes.
        whole_input_allowed: whether giving neither means "a kernel that
            covers the whole input" (translation invariance without locality).

    Returns:
        The kernel size as a tuple of `rank` ints, or None for a whole-input
        kernel.
    """
    if delta is not None and kernel_size is not None:
        raise ValueError(
            "Pass exactly one of `delta` and `kernel_size`, not both. "
            f"Received: delta={delta!r}, kernel_size={kernel_size!r}"
        )
    if delta is not None:
        return tuple(2 * d + 1 for d in int_tuple(delta, rank, "delta", 0))
    if kernel_size is not None:
        return int_tuple(kernel_size, rank, "kernel_size", 1)
    if whole_input_allowed:
        return None
    raise ValueError(
        "Pass exactly one of `delta` (the half-width Δ of the window, an "
        "integer >= 0) and `kernel_size`. Received: delta=None, "
        "kernel_size=None"
    )


def choice(value, name, allowed):
    """Returns `value` lower-cased if it is one of `allowed`, else raises."""
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected one of "
            f"{list(allowed)}. Received: {name}={value!r}"
        )
    return value.lower()


def data_format(value):
    """`value` lower-cased, or Keras's global `image_data_format()` for None."""
    if value is None:
        return keras.config.image_data_format()
    return choice(value, "data_format", DATA_FORMATS)


def padding(value, rank):
    """"same", "valid" or (for sequences only, as Keras's Conv1D) "causal"."""
    if rank != 1 and isinstance(value, str) and value.lower() != "causal":
        return choice(value, "padding", PADDINGS[:2])
    value = choice(value, "padding", PADDINGS)
    if value == "causal" and rank != 1:
        raise ValueError(
            "Invalid value for argument `padding`. padding='causal' (the output "
            "at step t sees only the inputs up to t) is defined for sequences, "
            "the 1D layers. Expected one of ['same', 'valid']. Received: "
            "padding='causal'"
        )
    return value

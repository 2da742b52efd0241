"""Argument types of the zoo's command lines, `training`'s and `models.predict`'s (argparse `type=` callables).

Each returns the parsed value or raises `argparse.ArgumentTypeError` with the
text received, which argparse prints as `argument --flag: <message>`. This
module imports nothing but the standard library, so that `training.gpu_check`
can use it under `KERAS_BACKEND=jax` without TensorFlow.
"""

import argparse
import json


def _number(text, kind, accept, expected):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        value = None
    if value is None or not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
    return value


def positive_int(text):
    """An integer >= 1: `--epochs`, `--batch-size`, `--seeds`..."""
    return _number(text, int, lambda v: v >= 1, "an integer >= 1")


def non_negative_int(text):
    """An integer >= 0: `--seed`."""
    return _number(text, int, lambda v: v >= 0, "an integer >= 0")


def positive_float(text):
    """A number > 0: `--learning-rate`."""
    return _number(text, float, lambda v: v > 0, "a number > 0")


def non_negative_float(text):
    """A number >= 0: `--weight-decay`."""
    return _number(text, float, lambda v: v >= 0, "a number >= 0")


def fraction(text):
    """A number in [0, 1): `--validation-fraction`, `--label-smoothing`."""
    return _number(text, float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def unit_float(text):
    """A number in [0, 1]: `--distill-weight`."""
    return _number(text, float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def jit_compile(text):
    """`auto`, `true` or `false` (any case) as "auto", True or False."""
    value = {"auto": "auto", "true": True, "false": False}.get(str(text).lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected auto, true or false, got {text}")
    return value


def model_arg(text):
    """`KEY=VALUE` as `(key, value)`, VALUE parsed as JSON where it parses (3, 0.5, true, [32, 64]), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with KEY an argument name, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key, parsed


def budgets(text):
    """Comma-separated parameter counts, `15000,60000` or `1e4,6e4`, as a list of positive ints."""
    try:
        values = [int(float(v)) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive parameter counts, got {text!r}")
    return values


def numbers(text):
    """Comma-separated numbers, `0.003,0.01`, as a non-empty list of floats."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return values

"""`count_params` and the §7.1 parameter table (`python -m constrained_layers.params`).

`count_params`, and Keras's `count_params()` of the built layer, must equal
the count written from each layer's equation (kh·kw·C·F + F for a
convolution, P·kh·kw·C·F + P·F for a locally connected layer over P output
positions, ...) for every configuration that can be built, and `count_params`
must answer instantly for the ones that cannot (a megapixel fully connected
layer). The table's numbers are checked against the equations of §7.1, never
typed in by hand.
"""

import math
import subprocess
import sys
import time

import pytest

import constrained_layers
from constrained_layers import (
    FullyConnected1D,
    FullyConnected2D,
    LocallyConnected,
    LocallyConnected1D,
    LowRankLocallyConnected,
    LowRankLocallyConnected1D,
    MultiChannelConv,
    MultiChannelConv1D,
    SharedConv,
    SharedConv1D,
    count_params,
)
from constrained_layers import params as params_cli

# (layer, input shape without the batch axis, arguments, the count written
# from the layer's equation). Notation: L, H, W input sizes; L', H', W' (and
# P = H'·W' positions) output sizes; C channels; F filters; k, kh·kw the
# window's taps. "same" keeps the size at stride 1 and gives ceil(n/s);
# "valid" gives (n - k)//s + 1; SharedConv's whole-input window is 2n-1 taps.
CONFIGS = [
    # FullyConnected1D, eq. (7.1.1) on sequences: L·C·L'·F + L'·F.
    (FullyConnected1D, (10, 3), {"filters": 2}, 10 * 3 * 10 * 2 + 10 * 2),
    (FullyConnected1D, (10, 1), {"filters": 4, "output_size": 3}, 10 * 1 * 3 * 4 + 3 * 4),
    (FullyConnected1D, (7, 2), {"filters": 1, "use_bias": False}, 7 * 2 * 7 * 1),
    # FullyConnected2D, eq. (7.1.1): H·W·C·H'·W'·F + H'·W'·F.
    (FullyConnected2D, (5, 6, 3), {"filters": 2}, 5 * 6 * 3 * 5 * 6 * 2 + 5 * 6 * 2),
    (FullyConnected2D, (5, 6, 1), {"filters": 3, "output_size": (2, 4)}, 5 * 6 * 1 * 2 * 4 * 3 + 2 * 4 * 3),
    (FullyConnected2D, (4, 4, 2), {"filters": 1, "output_size": 3, "use_bias": False}, 4 * 4 * 2 * 3 * 3 * 1),
    # LocallyConnected1D, locality without sharing: L'·k·C·F + L'·F.
    (LocallyConnected1D, (9, 2), {"filters": 3, "delta": 1}, 9 * 3 * 2 * 3 + 9 * 3),
    (LocallyConnected1D, (9, 2), {"filters": 2, "kernel_size": 4, "strides": 2},
     5 * 4 * 2 * 2 + 5 * 2),  # L' = ceil(9/2)
    (LocallyConnected1D, (9, 1), {"filters": 2, "delta": 2, "padding": "valid", "use_bias": False},
     5 * 5 * 1 * 2),  # k = 5, L' = 9 - 5 + 1
    # LocallyConnected: P·kh·kw·C·F + P·F.
    (LocallyConnected, (6, 7, 2), {"filters": 3, "delta": 1}, 42 * 9 * 2 * 3 + 42 * 3),  # P = 6·7
    (LocallyConnected, (6, 7, 2), {"filters": 2, "delta": (0, 2), "padding_mode": "reflect"},
     42 * (1 * 5) * 2 * 2 + 42 * 2),
    (LocallyConnected, (6, 7, 3), {"filters": 2, "kernel_size": (2, 3), "strides": (2, 3), "padding": "valid"},
     (3 * 2) * (2 * 3) * 3 * 2 + (3 * 2) * 2),  # H' = (6-2)//2+1 = 3, W' = (7-3)//3+1 = 2
    (LocallyConnected, (6, 7, 1), {"filters": 1, "delta": 1, "strides": 2, "use_bias": False},
     (3 * 4) * 9 * 1 * 1),  # H' = ceil(6/2), W' = ceil(7/2)
    # LowRankLocallyConnected1D, R shared kernels mixed per position:
    # k·C·R·F (kernels) + R·F (biases) + L'·R (mixing weights).
    (LowRankLocallyConnected1D, (9, 2), {"filters": 3, "delta": 1, "num_kernels": 4},
     3 * 2 * 4 * 3 + 4 * 3 + 9 * 4),
    (LowRankLocallyConnected1D, (9, 2), {"filters": 2, "kernel_size": 4, "strides": 2, "num_kernels": 1},
     4 * 2 * 1 * 2 + 1 * 2 + 5 * 1),  # L' = ceil(9/2)
    (LowRankLocallyConnected1D, (9, 1),
     {"filters": 2, "delta": 2, "padding": "valid", "use_bias": False, "num_kernels": 3},
     5 * 1 * 3 * 2 + 5 * 3),  # k = 5, L' = 9 - 5 + 1
    # LowRankLocallyConnected: kh·kw·C·R·F + R·F + P·R.
    (LowRankLocallyConnected, (6, 7, 2), {"filters": 3, "delta": 1, "num_kernels": 2},
     9 * 2 * 2 * 3 + 2 * 3 + 42 * 2),  # P = 6·7
    (LowRankLocallyConnected, (6, 7, 3),
     {"filters": 2, "kernel_size": (2, 3), "strides": (2, 3), "padding": "valid", "num_kernels": 5},
     (2 * 3) * 3 * 5 * 2 + 5 * 2 + (3 * 2) * 5),  # H' = 3, W' = 2
    (LowRankLocallyConnected, (6, 7, 1), {"filters": 4, "delta": 1, "dilation_rate": 2, "num_kernels": 3,
                                          "data_format": "channels_last"},
     9 * 1 * 3 * 4 + 3 * 4 + 42 * 3),
    # The options: the softmax changes no count; row × column mixing holds
    # (H' + W')·R weights instead of H'·W'·R.
    (LowRankLocallyConnected1D, (9, 2), {"filters": 3, "delta": 1, "num_kernels": 4,
                                         "mixing_normalization": "softmax"},
     3 * 2 * 4 * 3 + 4 * 3 + 9 * 4),
    (LowRankLocallyConnected, (6, 7, 2), {"filters": 3, "delta": 1, "num_kernels": 2,
                                          "mixing_normalization": "softmax"},
     9 * 2 * 2 * 3 + 2 * 3 + 42 * 2),
    (LowRankLocallyConnected, (6, 7, 2), {"filters": 3, "delta": 1, "num_kernels": 2,
                                          "mixing_factorization": "row_column"},
     9 * 2 * 2 * 3 + 2 * 3 + (6 + 7) * 2),
    (LowRankLocallyConnected, (6, 7, 3),
     {"filters": 2, "kernel_size": (2, 3), "strides": (2, 3), "padding": "valid", "num_kernels": 5,
      "mixing_normalization": "softmax", "mixing_factorization": "row_column"},
     (2 * 3) * 3 * 5 * 2 + 5 * 2 + (3 + 2) * 5),  # H' = 3, W' = 2
    (LowRankLocallyConnected, (6, 7, 1), {"filters": 2, "delta": 1, "strides": 2, "use_bias": False,
                                          "num_kernels": 3, "mixing_factorization": "row_column",
                                          "data_format": "channels_last"},
     9 * 1 * 3 * 2 + (3 + 4) * 3),  # H' = ceil(6/2), W' = ceil(7/2)
    # SharedConv1D, eq. (7.1.3) per channel: k·C + C.
    (SharedConv1D, (9, 3), {"delta": 2}, 5 * 3 + 3),
    (SharedConv1D, (9, 3), {}, (2 * 9 - 1) * 3 + 3),  # whole input, eq. (7.1.2)
    (SharedConv1D, (9, 2), {"kernel_size": 4, "strides": 3, "use_bias": False}, 4 * 2),
    # SharedConv: kh·kw·C + C.
    (SharedConv, (6, 7, 3), {"delta": 1}, 3 * 3 * 3 + 3),
    (SharedConv, (6, 7, 2), {}, (2 * 6 - 1) * (2 * 7 - 1) * 2 + 2),
    (SharedConv, (6, 7, 2), {"delta": None, "padding": "same", "padding_mode": "circular"},
     (2 * 6 - 1) * (2 * 7 - 1) * 2 + 2),
    (SharedConv, (6, 7, 4), {"kernel_size": (1, 4), "strides": 2, "padding": "valid"}, 1 * 4 * 4 + 4),
    (SharedConv, (6, 7, 1), {"delta": (2, 0), "use_bias": False}, 5 * 1 * 1),
    # MultiChannelConv1D, eq. (7.1.7) on sequences: k·C·F + F.
    (MultiChannelConv1D, (9, 3), {"filters": 5, "delta": 1}, 3 * 3 * 5 + 5),
    (MultiChannelConv1D, (9, 3), {"filters": 2, "kernel_size": 6, "padding": "valid"}, 6 * 3 * 2 + 2),
    (MultiChannelConv1D, (9, 1), {"filters": 2, "delta": 0, "use_bias": False}, 1 * 1 * 2),
    # MultiChannelConv, eq. (7.1.7): kh·kw·C·F + F.
    (MultiChannelConv, (6, 7, 3), {"filters": 4, "delta": 1}, 3 * 3 * 3 * 4 + 4),
    (MultiChannelConv, (6, 7, 3), {"filters": 2, "kernel_size": (2, 5), "strides": 2}, 2 * 5 * 3 * 2 + 2),
    (MultiChannelConv, (6, 7, 2), {"filters": 3, "delta": 0}, 1 * 1 * 2 * 3 + 3),
    (MultiChannelConv, (6, 7, 2), {"filters": 1, "kernel_size": (11, 13), "use_bias": False}, 11 * 13 * 2 * 1),
]


@pytest.mark.parametrize(
    "layer_cls, input_shape, kwargs, expected",
    CONFIGS,
    ids=[f"{c.__name__}-{s}-{k}" for c, s, k, _ in CONFIGS],
)
def test_count_params_follows_the_equations(layer_cls, input_shape, kwargs, expected):
    """`count_params` (by class, name or instance) and Keras's count of the
    built layer both equal the count written from the layer's equation."""
    assert count_params(layer_cls, input_shape, **kwargs) == expected
    assert count_params(layer_cls.__name__, input_shape, **kwargs) == expected
    assert count_params(layer_cls(**kwargs), input_shape) == expected
    # "zeros" keeps building cheap (no random kernel); counts do not depend on it.
    layer = layer_cls(kernel_initializer="zeros", **kwargs)
    layer.build((None, *input_shape))
    assert layer.count_params() == expected
    assert sum(math.prod(w.shape) for w in layer.weights) == expected


def test_count_params_accepts_class_name_and_instance():
    # SharedConv(delta=2) on 3 channels: a 5×5 kernel per channel, one bias each.
    expected = 5 * 5 * 3 + 3
    assert count_params(SharedConv, (8, 8, 3), delta=2) == expected
    assert count_params("SharedConv", (8, 8, 3), delta=2) == expected
    assert count_params(SharedConv(delta=2), (8, 8, 3)) == expected
    assert count_params(constrained_layers.SharedConv2D, (8, 8, 3), delta=2) == expected


def test_count_params_does_not_build_the_instance():
    layer = MultiChannelConv(4, delta=1)
    assert count_params(layer, (8, 8, 3)) == 3 * 3 * 3 * 4 + 4
    assert not layer.built and not layer.weights


def test_count_params_returns_a_python_int():
    assert type(count_params(MultiChannelConv, (8, 8, 3), filters=4, delta=1)) is int


# ---------------------------------------------------------- the text's numbers


def test_megapixel_counts_are_instant():
    """§7.1: a 1000×1000 image. Nothing is allocated, so each is instant."""
    h = w = 1000
    start = time.perf_counter()
    # Eq. (7.1.1): a weight per (output pixel, input pixel) pair, (H·W)², + H·W biases.
    assert count_params(FullyConnected2D, (h, w, 1), filters=1) == (h * w) ** 2 + h * w == 10**12 + 10**6
    # Eq. (7.1.2): translation invariance alone: offsets -(H-1)..H-1, (2H-1)(2W-1) + 1.
    assert count_params(SharedConv, (h, w, 1), delta=None) == (2 * h - 1) * (2 * w - 1) + 1 == 1999**2 + 1
    assert count_params(MultiChannelConv, (h, w, 1), filters=1, kernel_size=(2 * h - 1, 2 * w - 1)) == 1999**2 + 1
    # Eq. (7.1.3): invariance and locality: (2Δ+1)² + 1, whatever the image size.
    delta = 10
    assert count_params(SharedConv, (h, w, 1), delta=delta) == (2 * delta + 1) ** 2 + 1 == 442
    assert count_params(MultiChannelConv, (h, w, 1), filters=1, delta=delta) == 442
    # Locality without invariance: a (2Δ+1)² window at every pixel, and a bias at every pixel.
    assert count_params(LocallyConnected, (h, w, 1), filters=1, delta=delta) == h * w * (2 * delta + 1) ** 2 + h * w
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("channels, filters", [(1, 1), (3, 16)])
def test_counts_follow_the_equations_with_channels(channels, filters):
    """Eq. (7.1.7): V[a, b, c, d] has (2Δ+1)²·C·D entries and one bias per d."""
    h, w, delta = 28, 20, 2
    k2 = (2 * delta + 1) ** 2
    shape = (h, w, channels)
    assert count_params(FullyConnected2D, shape, filters=filters) == (h * w * channels) * (h * w * filters) + h * w * filters
    assert count_params(LocallyConnected, shape, filters=filters, delta=delta) == (
        h * w * k2 * channels * filters + h * w * filters
    )
    assert count_params(MultiChannelConv, shape, filters=filters, delta=delta) == k2 * channels * filters + filters
    assert count_params(SharedConv, shape, delta=delta) == k2 * channels + channels
    # 1D: the same with one axis.
    assert count_params(FullyConnected1D, (h, channels), filters=filters) == h * channels * h * filters + h * filters
    assert count_params(LocallyConnected1D, (h, channels), filters=filters, delta=delta) == (
        h * (2 * delta + 1) * channels * filters + h * filters
    )
    assert count_params(MultiChannelConv1D, (h, channels), filters=filters, delta=delta) == (
        (2 * delta + 1) * channels * filters + filters
    )
    assert count_params(SharedConv1D, (h, channels), delta=delta) == (2 * delta + 1) * channels + channels


# --------------------------------------------------------------------- the CLI


def expected_rows(h, w, delta, channels, filters):
    """(layer, weights, biases) for each step of §7.1, from the equations."""
    k2 = (2 * delta + 1) ** 2
    rows = [
        ("FullyConnected2D", (h * w * channels) * (h * w * filters), h * w * filters),  # (7.1.1)
        ("MultiChannelConv", (2 * h - 1) * (2 * w - 1) * channels * filters, filters),  # (7.1.2)
        ("LocallyConnected", h * w * k2 * channels * filters, h * w * filters),  # locality only
        ("MultiChannelConv", k2 * channels * filters, filters),  # (7.1.3)/(7.1.7)
        ("SharedConv", k2 * channels, channels),  # one kernel per channel
    ]
    # The same numbers from count_params: one source of truth.
    shape = (h, w, channels)
    from_counts = [
        count_params(FullyConnected2D, shape, filters=filters),
        count_params(MultiChannelConv, shape, filters=filters, kernel_size=(2 * h - 1, 2 * w - 1)),
        count_params(LocallyConnected, shape, filters=filters, delta=delta),
        count_params(MultiChannelConv, shape, filters=filters, delta=delta),
        count_params(SharedConv, shape, delta=delta),
    ]
    assert [wt + b for _, wt, b in rows] == from_counts
    return rows


def parse_count(cell):
    """'1,000,000' -> (1000000, exact); '1.00e+12' -> (1e12, rounded to 3 digits)."""
    cell = cell.strip()
    if "e" in cell:
        return float(cell), False
    return int(cell.replace(",", "")), True


def check_table(text, h, w, delta, channels, filters):
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| step")]
    expected = expected_rows(h, w, delta, channels, filters)
    assert len(rows) == len(expected), text
    for line, (layer, weights, biases) in zip(rows, expected):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] == layer, line
        for cell, value in zip(cells[2:5], (weights, biases, weights + biases)):
            number, exact = parse_count(cell)
            if exact:
                assert number == value, f"{cell} != {value:,} in {line}"
            else:  # scientific notation with 3 significant digits
                assert number == pytest.approx(value, rel=5e-3), f"{cell} != {value:,} in {line}"
        assert cells[5].endswith("B"), line  # float32 bytes, e.g. "4.0 TB"
    assert f"Δ = {delta}" in text and f"{h}×{w}×{channels}" in text
    return rows


def test_cli_prints_the_megapixel_table():
    """`make demo`'s command, run as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "constrained_layers.params", "--height", "1000", "--width", "1000", "--delta", "10"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = check_table(result.stdout, 1000, 1000, 10, 1, 1)
    # The fully connected layer needs terabytes (4 bytes × 1,000,001,000,000);
    # SharedConv, 4 × 442 = 1,768 bytes.
    assert rows[0].endswith("| 4.0 TB |"), rows[0]
    assert rows[-1].endswith("| 1.8 KB |"), rows[-1]


def test_cli_table_with_channels(capsys):
    params_cli.main(["--height", "28", "--width", "28", "--delta", "2", "--channels", "3", "--filters", "8"])
    check_table(capsys.readouterr().out, 28, 28, 2, 3, 8)


def test_cli_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        params_cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: python -m constrained_layers.params" in out
    for flag in ("--height", "--width", "--delta", "--channels", "--filters"):
        assert flag in out
    assert "(default: 1000)" in out and "(default: 10)" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--delta", "-1"], "argument --delta: expected an integer >= 0, got -1"),
        (["--height", "0"], "argument --height: expected an integer >= 1, got 0"),
        (["--filters", "two"], "argument --filters: invalid"),
    ],
)
def test_cli_bad_argument_exits_nonzero(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        params_cli.main(argv)
    assert exit_info.value.code != 0
    assert message in capsys.readouterr().err

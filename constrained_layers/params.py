"""The parameter table of D2L §7.1's derivation, for one image size.

    python -m constrained_layers.params --height 1000 --width 1000 --delta 10

prints, for a fully connected layer, translation invariance, locality and
channels, the weights, biases and float32 bytes, each from `count_params`.
"""

import argparse

from constrained_layers._sizes import format_bytes
from constrained_layers.counting import derivation_table

def format_table(height, width, delta, channels=1, filters=1):
    """The derivation's table as Markdown."""
    lines = [
        f"Parameters for a {height}×{width}×{channels} input, {filters} output "
        f"channel(s), Δ = {delta} (window {2 * delta + 1}×{2 * delta + 1}; "
        f"the text's 4Δ² = {4 * delta * delta:,}).",
        "",
        "| step (D2L §7.1) | layer | weights | + biases | total | float32 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for step, layer, weights, biases in derivation_table(height, width, delta, channels, filters):
        total = weights + biases
        lines.append(
            f"| {step} | {layer} | {weights:,} | {biases:,} | {total:,} | {format_bytes(4 * total)} |"
        )
    return "\n".join(lines)


def _non_negative(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_layers.params",
        description="Print the parameter counts of D2L §7.1's derivation for one image size.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--height", type=_positive, default=1000, help="image height H")
    parser.add_argument("--width", type=_positive, default=1000, help="image width W")
    parser.add_argument("--delta", type=_non_negative, default=10, help="window half-width Δ")
    parser.add_argument("--channels", type=_positive, default=1, help="input channels C")
    parser.add_argument("--filters", type=_positive, default=1, help="output channels F")
    args = parser.parse_args(argv)
    print(format_table(args.height, args.width, args.delta, args.channels, args.filters))


if __name__ == "__main__":
    main()

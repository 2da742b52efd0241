"""Classify image files with a published model: `python -m constrained_zoo.models.predict FILE...`.

    python -m constrained_zoo.models.predict --model cnn_bn_50k --weights fashion_mnist shoe.png boot.jpg
    python -m constrained_zoo.models.predict --top 5 --invert false garment_on_black.png

Each file goes through `models.preprocess` (grayscale, polarity, resized to
the model's input keeping its aspect ratio; see its docstring) and the
model's logits through `models.decode_predictions`. For each file, in the
order given, a block: the file as named, then the `--top` classes, one a
line, with their probabilities:

    shoe.png
      Sneaker       93.12%
      Sandal         5.43%
      Ankle boot     1.40%

Nothing is written to disk. An error (a missing file, a file that is not
an image, a model without published weights of that name, a model that takes
sequences, not images) is one line on stderr and exit status 2.
"""

import argparse
import os
import sys

import keras

from constrained_zoo import arguments, models
from . import weights as _published
from .datasets import dataset_info
from .preprocessing import decode_predictions, preprocess

DEFAULT_MODEL = "cnn_bn_50k"
DEFAULT_WEIGHTS = "fashion_mnist"
EXIT_ERROR = 2
_INVERT = {"auto": "auto", "true": True, "false": False}
# The library's words for the arguments, and the command line's.
_ARGUMENT_NAMES = (("Invalid value for argument `images`: ", ""), ("argument `weights`", "--weights"))


def _prog():
    name = os.path.basename(sys.argv[0]) if sys.argv else ""
    return name if name.startswith("czoo-") else "python -m constrained_zoo.models.predict"


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown; the example's lines kept as written."""


def build_parser():
    """The command line of `python -m constrained_zoo.models.predict` (`czoo-predict`)."""
    prog = _prog()
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Classify image files with a model of the zoo and its published weights: "
                    "the top classes of each file, with their probabilities. Writes nothing.",
        epilog=f"example: {prog} --model {DEFAULT_MODEL} --weights {DEFAULT_WEIGHTS} shoe.png boot.jpg --top 3\n"
               "(`python -m constrained_zoo.models` lists the models; `models.published_weights()` the weights.)",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ... anything Pillow reads)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="a model with published weights")
    parser.add_argument(
        "--weights", default=DEFAULT_WEIGHTS,
        help="the published weights to load: a dataset, or a dataset and tag such as fashion_mnist.frontier",
    )
    parser.add_argument("--top", type=arguments.positive_int, default=3, metavar="N", help="how many classes to show per file")
    parser.add_argument(
        "--invert", choices=sorted(_INVERT), default="auto",
        help="make a dark object on a light background light on dark, as the training images are: "
             "auto inverts a file whose border is light (mean brightness above 0.5)",
    )
    return parser


def predict_files(files, model=DEFAULT_MODEL, weights=DEFAULT_WEIGHTS, top=3, invert="auto"):
    """The top classes of each image file: `[(file, [(class_name, probability), ...]), ...]`.

    Checks what it can before loading the model: the model takes images, has
    weights `weights`, `top` fits the classes, and every file is an image.

    Raises:
        ValueError: an unknown model, a model that takes sequences, a `top`
            out of range, a file that is not an image (`NotAnImageError`),
            or no such published weights (`WeightsError`).
        OSError: a file that cannot be opened (`FileNotFoundError`, ...).

    Example:

    >>> predict_files(["shoe.png"], top=1)  # doctest: +SKIP
    [('shoe.png', [('Sneaker', 0.9312...)])]
    """
    entry = models.model_entry(model)
    if entry.rank != 2:
        raise ValueError(
            f"Model {model!r} takes sequences ({', '.join(entry.datasets)}), not images; choose an image model "
            f"(`python -m constrained_zoo.models` lists them). Received: --model {model}"
        )
    _published.find_published(model, weights)  # WeightsError: says which models have `weights`
    info = dataset_info(weights)
    if top > len(info.class_names):
        raise ValueError(
            f"Invalid value for --top: {info.name} has {len(info.class_names)} classes. Received: --top {top}"
        )
    for path in files:
        if not os.path.exists(path):
            raise FileNotFoundError(f"No such file: {path!r}")
        if os.path.isdir(path):
            raise IsADirectoryError(f"{path!r} is a folder, not an image file")
    x = preprocess(list(files), info.name, invert=invert)  # (N, H, W, 1)
    network = models.create_model(model, weights=weights)
    logits = keras.ops.convert_to_numpy(network(x, training=False))  # (N, num_classes)
    return list(zip(files, decode_predictions(logits, info.name, top=top)))


def format_predictions(predictions):
    """One block per file: the file, then its classes and probabilities, aligned.

    Example:

    >>> print(format_predictions([("shoe.png", [("Sneaker", 0.9312), ("Sandal", 0.0543)])]))
    shoe.png
      Sneaker   93.12%
      Sandal     5.43%
    """
    width = max((len(name) for _, top in predictions for name, _ in top), default=0)
    blocks = []
    for path, top in predictions:
        lines = [str(path)] + [f"  {name:<{width}}  {probability:7.2%}" for name, probability in top]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def main(argv=None):
    """Runs the command line; returns the exit status (0, or 2 after a one-line error on stderr)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        predictions = predict_files(args.files, args.model, args.weights, args.top, _INVERT[args.invert])
    except (ValueError, OSError) as error:  # WeightsError and NotAnImageError are ValueErrors
        message = " ".join(str(error).split()) if str(error) else type(error).__name__
        for library, command_line in _ARGUMENT_NAMES:  # as the command line names them
            message = message.replace(library, command_line)
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    print(format_predictions(predictions))
    return 0


if __name__ == "__main__":
    sys.exit(main())

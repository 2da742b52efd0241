"""List the zoo as a Markdown table: `python -m constrained_zoo.models [PATTERN]`."""

import argparse

from constrained_zoo import models
from constrained_zoo.markdown import markdown_table
from constrained_zoo.models.architecture import count_text


def zoo_table(pattern="*"):
    """One row per registered model: family, datasets, every weight (trainable beside it), description.

    Each model is built as `create_model(name)` builds it, for its first dataset.

    Example:

    >>> print(zoo_table("lenet5").splitlines()[-1])
    | lenet5 | multi_channel_conv | fashion_mnist | 61,706 | LeNet-5 as in D2L §7.6: 5×5 convolutions, sigmoid, average pooling. |
    """
    rows = []
    for name in models.list_models(pattern):
        entry, model = models.model_entry(name), models.create_model(name)
        counts = count_text({"params": model.count_params(), "trainable_params": models.trainable_params(model)})
        rows.append([name, entry.family, ", ".join(entry.datasets), counts, entry.description])
    return markdown_table(["model", "family", "meant for", "weights (trainable)", "description"], rows, right=(3,))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.models", description="List the zoo's models.", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("pattern", nargs="?", default="*", help="a wildcard over model names")
    print(zoo_table(parser.parse_args(argv).pattern))


if __name__ == "__main__":
    main()

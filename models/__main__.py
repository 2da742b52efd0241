"""List the zoo as a Markdown table: `python -m models [PATTERN]`."""

import argparse
import math

import models


def zoo_table(pattern="*"):
    """One row per registered model: family, datasets, parameters, description."""
    lines = [
        "| model | family | meant for | trainable parameters | description |",
        "|---|---|---|---:|---|",
    ]
    for name in models.list_models(pattern):
        entry = models.model_entry(name)
        params = sum(math.prod(w.shape) for w in models.create_model(name).trainable_weights)
        lines.append(f"| {name} | {entry.family} | {', '.join(entry.datasets)} | {params:,} | {entry.description} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m models", description="List the zoo's models.")
    parser.add_argument("pattern", nargs="?", default="*", help="a wildcard over model names")
    print(zoo_table(parser.parse_args(argv).pattern))


if __name__ == "__main__":
    main()

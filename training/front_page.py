"""The README's own generated blocks: the status line, a table's reproduction, every published model.

Each function takes the repository's root (and its marker's arguments) and
returns Markdown; `training.readme` puts them in place:

    <!-- generated: status -->                                     the version and what is stable
    <!-- generated: reproduce results/fashion_mnist runs/fashion_mnist cnn_*,lc_* -->   the sweep that made a folder
    <!-- generated: published -->                                  one row per published model
"""

import collections
import json
import os
import shlex

from constrained_zoo.markdown import markdown_table

#: What a user may rely on, said once (the version is read from the package).
STABILITY = ("the layers (`constrained_layers`) and `create_model` are stable; model names, published weights "
             "and the training commands' flags may still change before 1.0 (CHANGELOG.md lists every change)")


def status(root):
    """One line: the version and what is stable.

    Example:

    >>> status(".").startswith("**Status:** version ")
    True
    """
    import constrained_layers

    stage = "a development version" if ".dev" in constrained_layers.__version__ else "a release"
    return f"**Status:** version {constrained_layers.__version__} ({stage}): {STABILITY}.\n"


def _seeds(folder):
    """{model: number of finished seeds} of a results folder's runs."""
    runs = os.path.join(folder, "runs")
    return {model: len(os.listdir(os.path.join(runs, model))) for model in sorted(os.listdir(runs))}


def reproduce(root, folder, out, patterns):
    """The sweep that reproduces `folder`'s table into the fresh folder `out`, and what it trains.

    The recipe is `folder`'s recipe.json, the models those `patterns` select
    for its dataset (as `czoo-sweep` selects them), the seeds the number most
    of its models have.
    """
    from . import settings
    from .sweep import select_models

    with open(os.path.join(root, folder, "recipe.json"), encoding="utf-8") as f:
        recipe = json.load(f)
    if os.path.normpath(out).split(os.sep)[0] == os.path.normpath(folder).split(os.sep)[0]:
        raise ValueError(f"the reproduction must write beside the published folders, not among them: {out!r}")
    names = select_models(patterns, recipe["dataset"])
    seeds = _seeds(os.path.join(root, folder))
    if sorted(names) != sorted(seeds):
        raise ValueError(f"{patterns!r} selects {sorted(names)}, but {folder!r} holds {sorted(seeds)}")
    usual = collections.Counter(seeds.values()).most_common(1)[0][0]
    more = [f"{model} has {n}" for model, n in seeds.items() if n != usual]
    recipe_words = settings.train_words(recipe)[3:]  # after `python -m MODULE`
    command = shlex.join(["czoo-sweep", *recipe_words[:2], "--models", patterns, "--seeds", str(usual),
                          *recipe_words[2:], "--out", out])
    extra = f" ({', '.join(more)} in the published table)" if more else ""
    return (f"The command trains {len(names)} models, {usual} seeds each{extra}, {recipe['epochs']} epochs, into the new "
            f"folder `{out}` (the published `{folder}` stays as it is):\n\n```bash\n{command}\n```\n")


def published(root):
    """One row per published model: name, weights tag, parameters, test accuracy."""
    from constrained_zoo.models import weights

    rows = [[w["model"], weights.weights_name(w), f"{w['params']:,}", f"{w['trainable_params']:,}",
             f"{w['test_accuracy']:.4f}"]
            for w in sorted(weights.published_weights(), key=lambda w: (w["model"], weights.weights_name(w)))]
    header = ["model", "weights", "parameters", "trainable parameters", "test accuracy"]
    return markdown_table(header, rows, right=(2, 3, 4)) + "\n"

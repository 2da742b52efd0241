"""Publish a finished run's weights into the zoo: `python -m constrained_zoo.training.publishing RUN_DIR`.

    python -m constrained_zoo.training.publishing results/fashion_mnist/runs/cnn_bn_50k/seed0
    python -m constrained_zoo.training.publishing RUN_DIR --commit 029ac3e... --weights-dir /tmp/weights   # a dry run elsewhere
    python -m constrained_zoo.training.publishing /clean/runs/M/seed0 --records results/fashion_mnist/runs/M/seed0

`czoo-publish` is the same command. It takes a directory written by `python -m constrained_zoo.training.train` (`model.keras`,
`config.json`, `results.json`, `history.csv`), loads its weights into
`models.create_model(model, input_shape, num_classes, **model_args)` (so the
file is known to load into the zoo's own definition), re-computes the test
accuracy the way `python -m constrained_zoo.training.evaluate --model M --weights D` will
(`training.evaluate.count_correct`: deterministic, float32, the run's batch
size and test split) and refuses to publish if it is not the run's
`results.json` figure. Then it writes `<root>/<dataset>/<model>-<sha256[:12]>.weights.h5`
and replaces the entry of (model, weights name) in `<root>/manifest.json`
under the root's lock, the file named by its content so that weights and
manifest change together (`install.install`; the entry's fields and the
file's name are `models.manifest`'s).

The manifest records the run's seed, the command that trained it
(reconstructed from `config.json`'s `args`; with the sweep's `recipe.json`
beside `runs/`, that recipe too), the overrides, both accuracies, sha256 and
bytes, and the commit of the code that trained it: the one `config.json`
records (`python -m constrained_zoo.training.train` records it in a git checkout), else
`--commit`, else `git rev-parse HEAD` now; `commit_source` says which.

The manifest's `run` is the run's folder, relative to the repository when
inside it; with `--records` (a run trained in a clean checkout elsewhere),
the copy of its records that the repository keeps, checked to be one
(`records.differences`; `harvest.py` makes the copy).

The root is `--weights-dir`, else `$ZOO_WEIGHTS_DIR`, else the package's
`models/weights/`.
"""

import argparse
import csv
import datetime
import os
import re
import sys

from constrained_zoo.models import manifest

from .. import settings
from ..run import rundir
from . import install, records as run_records

REPO = rundir.REPO


class PublishError(ValueError):
    """A run that cannot be published, said plainly."""


def _last_validation_accuracy(run_dir):
    path = os.path.join(run_dir, "history.csv")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    value = rows[-1].get("val_accuracy") if rows else None
    return float(value) if value not in (None, "") else None


def _sweep_recipe(run_dir):
    """The sweep's `OUT/recipe.json` for a run in `OUT/runs/NAME/seedS`, if there is one."""
    return rundir.read_json(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(run_dir)))), "recipe.json"))


def read_run(run_dir, dataset=None, tag=None):
    """A finished run's `(config, results)`, refusing what cannot be published."""
    if tag is not None and not (isinstance(tag, str) and re.fullmatch(r"[a-z0-9_]+", tag)):
        raise PublishError(f"--tag must be lowercase letters, digits and underscores; received {tag!r}.")
    for name in ("config.json", "results.json", "model.keras"):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise PublishError(f"{os.fspath(run_dir)!r} has no {name}: is it a finished run of python -m constrained_zoo.training.train?")
    config = rundir.read_json(os.path.join(run_dir, "config.json"))
    results = rundir.read_json(os.path.join(run_dir, "results.json"))
    run_dataset = config["args"]["dataset"]
    if dataset is not None and dataset != run_dataset:
        raise PublishError(
            f"--dataset {dataset!r} is not the run's dataset: {os.fspath(run_dir)!r} trained on {run_dataset!r}.")
    return config, results


def zoo_model(run_dir, config):
    """The run's weights in `models.create_model(...)`: proof that the file fits the zoo's own definition."""
    import keras  # pylint: disable=import-outside-toplevel

    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    args = config["args"]
    name, overrides = args["model"], dict(args.get("model_args") or {})
    trained = keras.saving.load_model(os.path.join(run_dir, "model.keras"), compile=False)
    model = models.create_model(name, input_shape=tuple(config["data"]["input_shape"]),
                                num_classes=int(config["data"]["num_classes"]), **overrides)
    ours, theirs = [tuple(w.shape) for w in model.weights], [tuple(w.shape) for w in trained.weights]
    if ours != theirs:
        raise PublishError(
            f"{run_dir}/model.keras does not fit the zoo's {name!r} with overrides {overrides}: its weights have "
            f"shapes {theirs}, models.create_model builds {ours}. Was the model's definition changed since?")
    model.set_weights(trained.get_weights())
    return model


def recheck(model, run_dir, args, results, data_dir=None):
    """Re-computes the test accuracy as `training.evaluate` will; `(correct, total, evaluation)`."""
    from ..data.split import SplitSettings  # pylint: disable=import-outside-toplevel
    from ..evaluate import count_correct  # pylint: disable=import-outside-toplevel

    split = SplitSettings.from_config(args)  # an older config's missing settings: what they meant then
    evaluation = {
        "dataset": split.dataset, "batch_size": args["batch_size"],
        "validation_fraction": split.validation_fraction, "seed": split.seed,
        "pixel_shuffle": split.pixel_shuffle, "shift": split.shift,
    }
    correct, total = count_correct(model, evaluation, data_dir=data_dir or args.get("data_dir"))
    if abs(correct / total - results["test_accuracy"]) > 0.5 / total:
        raise PublishError(
            f"The weights of {run_dir} give test accuracy {correct / total:.4f} ({correct}/{total}); its "
            f"results.json says {results['test_accuracy']:.4f}. Not published.")
    return correct, total, evaluation


def provenance(config, commit=None):
    """`(commit, where it came from, dirty)`: the run's config.json, else --commit, else this checkout now."""
    recorded = config.get("git") or {}
    if recorded.get("commit"):
        return recorded["commit"], "the run's config.json (recorded by python -m constrained_zoo.training.train)", recorded.get("dirty")
    if commit:
        return commit, "--commit", None
    state = rundir.git_state() or {}
    return (state.get("commit"), "HEAD of the publishing checkout (the run's config.json records no commit)",
            state.get("dirty"))


def entry_of(run_dir, config, results, model, counts, commit, tag, records=None):
    """The manifest entry of a run (without its file, sha256 and bytes: `install.install` adds them).

    Its `run` is `records` where given (the run's records in the repository), else `run_dir`;
    relative to the repository when inside it.
    """
    args = config["args"]
    correct, total, evaluation = counts
    commit, source, dirty = provenance(config, commit)
    path = os.path.abspath(records or run_dir)
    entry = {
        **manifest.manifest_entry(model, args["model"], args["dataset"], tag=tag, overrides=args.get("model_args")),
        "seed": args["seed"], "command": settings.train_command(args),
        "commit": commit, "commit_source": source, "commit_dirty": dirty,
        "test_accuracy": correct / total, "test_correct": correct, "num_test": total,
        "validation_accuracy": _last_validation_accuracy(run_dir),
        "best_validation_accuracy": results.get("best_val_accuracy"),
        "evaluation": evaluation, "epochs": results.get("epochs"),
        "run": os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path,
        "published": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    recipe = _sweep_recipe(run_dir)
    if recipe is not None:
        entry["sweep_recipe"] = recipe
    return entry


def check_records(run_dir, records):
    """Refuses `records` unless it is a faithful copy of `run_dir`'s record files (`records.differences`)."""
    if records is None:
        return
    found = run_records.differences(run_dir, records)
    if found:
        raise PublishError(f"--records {os.fspath(records)!r} is not a copy of {os.fspath(run_dir)!r}'s records: "
                           f"{', '.join(found)}. Copy them (python -m constrained_zoo.training.publishing.harvest) first.")


def publish(run_dir, dataset=None, commit=None, weights_dir=None, data_dir=None, tag=None, records=None):
    """Publishes `run_dir`'s weights and manifest entry; returns the entry.

    Args:
        run_dir: a finished run of `python -m constrained_zoo.training.train`.
        dataset: if given, must be the run's dataset (a guard).
        commit: the git commit of the code that trained the run, for a
            config.json that records none (default: `git rev-parse HEAD` of
            this checkout now, recorded as such).
        weights_dir: the weights root (default: `models.weights_dir()`).
        data_dir: where to look first for the test data.
        tag: None for the recipe of the README's table of the dataset (the
            weights name is the dataset), or a name of lowercase letters,
            digits and underscores for another recipe (weights name
            `<dataset>.<tag>`, as timm's pretrained tags).
        records: the run's records as the repository keeps them (a folder
            with the same `config.json`, `results.json`, `history.csv` and,
            if the run has one, `shift.json`): the manifest names it as the
            run, instead of `run_dir`, which may be a checkout elsewhere.

    Raises:
        PublishError: not a finished run, another dataset than `dataset`, an
            invalid `tag`, `records` that are not a copy of the run's,
            weights that do not fit the zoo's model, or a re-computed test
            accuracy other than the run's.

    Example:

    >>> publish("results/fashion_mnist/runs/cnn_bn_50k/seed0")["test_accuracy"]
    0.9229
    """
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel

    config, results = read_run(run_dir, dataset, tag)
    check_records(run_dir, records)
    model = zoo_model(run_dir, config)
    counts = recheck(model, run_dir, config["args"], results, data_dir)
    entry = entry_of(run_dir, config, results, model, counts, commit, tag, records)
    return install.install(models.weights_dir(weights_dir), entry, model.save_weights)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.publishing",
        description="Publish a finished run's weights into the zoo (models/weights/<dataset>/<model>-<sha>.weights.h5 "
                    "and an entry of models/weights/manifest.json), after re-checking its test accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Example: python -m constrained_zoo.training.publishing results/fashion_mnist/runs/cnn_bn_50k/seed0",
    )
    parser.add_argument("run_dir", help="a finished run directory of python -m constrained_zoo.training.train")
    parser.add_argument("--dataset", default=None, help="a guard: refuse unless the run trained on this dataset")
    parser.add_argument("--commit", default=None,
                        help="git commit of the code that trained the run (default: git rev-parse HEAD now, "
                             "recorded as such in the manifest)")
    parser.add_argument("--weights-dir", default=None,
                        help="the weights root (default: $ZOO_WEIGHTS_DIR, else the package's models/weights)")
    parser.add_argument("--data-dir", default=None, help="where to look first for the test data")
    parser.add_argument("--tag", default=None,
                        help="publish under weights name DATASET.TAG (a recipe other than the README table's)")
    parser.add_argument("--records", default=None,
                        help="the run's records as the repository keeps them (e.g. results/fashion_mnist/runs/M/seed0, "
                             "a copy of RUN_DIR's config.json, results.json, history.csv): the manifest names it as the run")
    args = parser.parse_args(argv)
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.config.experimental.enable_op_determinism()  # as training.evaluate --weights
    try:
        entry = publish(args.run_dir, args.dataset, args.commit, args.weights_dir, args.data_dir, args.tag, args.records)
    except ValueError as error:  # PublishError, an unknown model or override
        print(f"error: {error}", file=sys.stderr)
        return 2
    name = manifest.weights_name(entry)
    print(f"published {entry['model']} as weights {name!r}: test accuracy {entry['test_accuracy']:.4f} "
          f"({entry['test_correct']:,}/{entry['num_test']:,}), {entry['bytes']:,} bytes, sha256 {entry['sha256'][:12]}…, "
          f"commit {entry['commit']} ({entry['commit_source']}); check it with: python -m constrained_zoo.training.evaluate "
          f"--model {entry['model']} --weights {name}")
    if entry["commit_dirty"] is not False:
        print(f"warning: † the run records no clean commit ({entry['commit_source']}"
              f"{', with uncommitted changes' if entry['commit_dirty'] else ''}): docs/zoo.md marks these weights "
              f"as not traceable to their code; retrain from a clean commit to publish traceable weights.",
              file=sys.stderr)
    return 0

"""Publish a finished run's weights into the zoo: `python -m training.publish RUN_DIR`.

    python -m training.publish results/fashion_mnist/runs/cnn_bn_50k/seed0
    python -m training.publish RUN_DIR --commit 029ac3e... --weights-dir /tmp/weights   # a dry run elsewhere

Takes a directory written by `python -m training.train` (`model.keras`,
`config.json`, `results.json`, `history.csv`), loads its weights into
`models.create_model(model, input_shape, num_classes, **model_args)` (so the
file is known to load into the zoo's own definition), re-computes the test
accuracy the way `python -m training.evaluate --model M --weights D` will
(`training.evaluate.count_correct`: deterministic, float32, the run's batch
size and test split) and refuses to publish if it is not the run's
`results.json` figure. Then it writes `<root>/<dataset>/<model>.weights.h5`
and replaces the entry of (model, dataset) in `<root>/manifest.json`, both
atomically (a temporary file and `os.replace`), under a lock.

The manifest records the run's seed, the command that trained it
(reconstructed from `config.json`'s `args`; with the sweep's `recipe.json`
beside `runs/`, that recipe too), the overrides, both accuracies, sha256 and
bytes. `config.json` does not record the code's git commit, so it is taken
from `--commit` (default: `git rev-parse HEAD` now) and the manifest says
which (`commit_source`).

The root is `--weights-dir`, else `$ZOO_WEIGHTS_DIR`, else the package's
`models/weights/`.
"""

import argparse
import contextlib
import csv
import datetime
import fcntl
import json
import math
import os
import re
import shlex
import subprocess
import sys

from training.atomic import atomic_path, write_json
from training.report import RECIPE_DEFAULTS  # a setting at its default is left out of the command

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# `python -m training.train` flags of the settings that change a run's result,
# in the order the command shows them; booleans are bare flags.
_FLAGS = (
    ("model", "--model"), ("dataset", "--dataset"), ("epochs", "--epochs"), ("batch_size", "--batch-size"),
    ("learning_rate", "--learning-rate"), ("lr_schedule", "--lr-schedule"), ("seed", "--seed"),
    ("max_train_examples", "--max-train-examples"), ("validation_fraction", "--validation-fraction"),
    ("augment", "--augment"), ("flip", "--flip"), ("label_smoothing", "--label-smoothing"),
    ("weight_decay", "--weight-decay"), ("pixel_shuffle", "--pixel-shuffle"), ("shift", "--shift"),
    ("mixed_precision", "--mixed-precision"),
)


class PublishError(ValueError):
    """A run that cannot be published, said plainly."""


def train_command(args):
    """The `python -m training.train` command of a run, from its config.json `args`.

    Example:

    >>> train_command({"model": "cnn_small", "dataset": "digits", "epochs": 2, "batch_size": 128,
    ...                "learning_rate": 0.001, "seed": 0, "augment": True, "model_args": {"width": 2}})
    'python -m training.train --model cnn_small --dataset digits --epochs 2 --batch-size 128 --learning-rate 0.001 --seed 0 --augment --model-arg width=2'
    """
    words = ["python", "-m", "training.train"]
    for key, flag in _FLAGS:
        value = args.get(key)
        if value is None or value is False or (key in RECIPE_DEFAULTS and value == RECIPE_DEFAULTS[key]):
            continue
        words += [flag] if value is True else [flag, str(value)]
    for key, value in sorted((args.get("model_args") or {}).items()):
        words += ["--model-arg", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    return shlex.join(words)


def git_commit(repo=REPO):
    """`git rev-parse HEAD` of `repo` and whether its tracked files differ from it; (None, None) without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return head.stdout.strip(), bool(status.stdout.strip())


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


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
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(run_dir)))), "recipe.json")
    return _read_json(path) if os.path.exists(path) else None


@contextlib.contextmanager
def _manifest_lock(root):
    """Holds an exclusive lock on the weights root itself (no lock file left in the package)."""
    os.makedirs(root, exist_ok=True)
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def publish(run_dir, dataset=None, commit=None, weights_dir=None, data_dir=None, tag=None):
    """Publishes `run_dir`'s weights and manifest entry; returns the entry.

    Args:
        run_dir: a finished run of `python -m training.train`.
        dataset: if given, must be the run's dataset (a guard).
        commit: the git commit of the code that trained the run (default:
            `git rev-parse HEAD` of this checkout now, recorded as such).
        weights_dir: the weights root (default: `models.weights_dir()`).
        data_dir: where to look first for the test data.
        tag: None for the recipe of the README's table of the dataset (the
            weights name is the dataset), or a name of lowercase letters,
            digits and underscores for another recipe (weights name
            `<dataset>.<tag>`, as timm's pretrained tags).

    Raises:
        PublishError: not a finished run, another dataset than `dataset`, an
            invalid `tag`,
            weights that do not fit the zoo's model, or a re-computed test
            accuracy other than the run's.

    Example:

    >>> publish("results/fashion_mnist/runs/cnn_bn_50k/seed0")["test_accuracy"]
    0.9229
    """
    import keras

    import models
    from models import _weights
    from training.evaluate import count_correct

    if tag is not None and not (isinstance(tag, str) and re.fullmatch(r"[a-z0-9_]+", tag)):
        raise PublishError(f"--tag must be lowercase letters, digits and underscores; received {tag!r}.")
    for name in ("config.json", "results.json", "model.keras"):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise PublishError(f"{os.fspath(run_dir)!r} has no {name}: is it a finished run of python -m training.train?")
    config = _read_json(os.path.join(run_dir, "config.json"))
    results = _read_json(os.path.join(run_dir, "results.json"))
    args = config["args"]
    name, run_dataset = args["model"], args["dataset"]
    if dataset is not None and dataset != run_dataset:
        raise PublishError(
            f"--dataset {dataset!r} is not the run's dataset: {os.fspath(run_dir)!r} trained on {run_dataset!r}."
        )
    overrides = dict(args.get("model_args") or {})
    input_shape, num_classes = tuple(config["data"]["input_shape"]), int(config["data"]["num_classes"])

    trained = keras.saving.load_model(os.path.join(run_dir, "model.keras"), compile=False)
    model = models.create_model(name, input_shape=input_shape, num_classes=num_classes, **overrides)
    ours = [tuple(w.shape) for w in model.weights]
    theirs = [tuple(w.shape) for w in trained.weights]
    if ours != theirs:
        raise PublishError(
            f"{run_dir}/model.keras does not fit the zoo's {name!r} with overrides {overrides}: its weights have "
            f"shapes {theirs}, models.create_model builds {ours}. Was the model's definition changed since?"
        )
    model.set_weights(trained.get_weights())

    evaluation = {
        "dataset": run_dataset, "batch_size": args["batch_size"],
        "validation_fraction": args.get("validation_fraction", 0.1), "seed": args["seed"],
        "pixel_shuffle": bool(args.get("pixel_shuffle", False)), "shift": args.get("shift", 0),
    }
    correct, total = count_correct(model, evaluation, data_dir=data_dir or args.get("data_dir"))
    if abs(correct / total - results["test_accuracy"]) > 0.5 / total:
        raise PublishError(
            f"The weights of {run_dir} give test accuracy {correct / total:.4f} ({correct}/{total}); its "
            f"results.json says {results['test_accuracy']:.4f}. Not published."
        )

    recorded = config.get("git") or {}
    if recorded.get("commit"):
        commit, source = recorded["commit"], "the run's config.json"
        dirty = recorded.get("dirty")
    elif commit:
        source, dirty = "--commit", None
    else:
        commit, dirty = git_commit()
        source = "HEAD of the publishing checkout (the run's config.json records no commit)"
    root = _weights.weights_dir(weights_dir)
    path = _weights.weights_file(name, run_dataset, root, tag)
    entry = {
        "model": name,
        "dataset": run_dataset,
        **({"tag": tag} if tag else {}),
        "file": os.path.relpath(path, root),
        "seed": args["seed"],
        "command": train_command(args),
        "commit": commit,
        "commit_source": source,
        "commit_dirty": dirty,
        "test_accuracy": correct / total,
        "test_correct": correct,
        "num_test": total,
        "validation_accuracy": _last_validation_accuracy(run_dir),
        "best_validation_accuracy": results.get("best_val_accuracy"),
        "overrides": overrides,
        "input_shape": list(input_shape),
        "num_classes": num_classes,
        "params": int(model.count_params()),
        "trainable_params": int(sum(math.prod(w.shape) for w in model.trainable_weights)),
        "evaluation": evaluation,
        "epochs": results.get("epochs"),
        "run": os.path.relpath(os.path.abspath(run_dir), REPO) if os.path.abspath(run_dir).startswith(REPO + os.sep)
        else os.path.abspath(run_dir),
        "published": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    recipe = _sweep_recipe(run_dir)
    if recipe is not None:
        entry["sweep_recipe"] = recipe
    with _manifest_lock(root):
        with atomic_path(path, suffix=".weights.h5") as tmp:
            model.save_weights(tmp)
            entry["sha256"], entry["bytes"] = _weights.sha256_of(tmp), os.path.getsize(tmp)
        manifest = _weights.read_manifest(root)
        manifest["weights"] = sorted(
            [w for w in manifest["weights"]
             if (w["model"], _weights.weights_name(w)) != (name, _weights.weights_name(entry))] + [entry],
            key=lambda w: (w["dataset"], w.get("tag") or "", w["model"]),
        )
        manifest["format"] = _weights.MANIFEST_FORMAT
        write_json(_weights.manifest_path(root), manifest)
    return entry


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m training.publish",
        description="Publish a finished run's weights into the zoo (models/weights/<dataset>/<model>.weights.h5 "
                    "and an entry of models/weights/manifest.json), after re-checking its test accuracy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Example: python -m training.publish results/fashion_mnist/runs/cnn_bn_50k/seed0",
    )
    parser.add_argument("run_dir", help="a finished run directory of python -m training.train")
    parser.add_argument("--dataset", default=None, help="a guard: refuse unless the run trained on this dataset")
    parser.add_argument("--commit", default=None,
                        help="git commit of the code that trained the run (default: git rev-parse HEAD now, "
                             "recorded as such in the manifest)")
    parser.add_argument("--weights-dir", default=None,
                        help="the weights root (default: $ZOO_WEIGHTS_DIR, else the package's models/weights)")
    parser.add_argument("--data-dir", default=None, help="where to look first for the test data")
    parser.add_argument("--tag", default=None,
                        help="publish under weights name DATASET.TAG (a recipe other than the README table's)")
    args = parser.parse_args(argv)
    import tensorflow as tf

    from models._weights import weights_name

    tf.config.experimental.enable_op_determinism()  # as training.evaluate --weights
    try:
        entry = publish(args.run_dir, args.dataset, args.commit, args.weights_dir, args.data_dir, args.tag)
    except ValueError as error:  # PublishError, an unknown model or override
        print(f"error: {error}", file=sys.stderr)
        return 2
    name = weights_name(entry)
    print(f"published {entry['model']} as weights {name!r}: test accuracy {entry['test_accuracy']:.4f} "
          f"({entry['test_correct']:,}/{entry['num_test']:,}), {entry['bytes']:,} bytes, sha256 {entry['sha256'][:12]}…, "
          f"commit {entry['commit']} ({entry['commit_source']}); check it with: python -m training.evaluate "
          f"--model {entry['model']} --weights {name}")
    return 0



if __name__ == "__main__":
    sys.exit(main())

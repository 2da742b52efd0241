"""Bring a sweep's finished runs into a results folder, and publish their weights from there.

    python -m constrained_zoo.training.shift /clean/runs/fashion_mnist --shifts 0,1,2,3,4,6   # first, where the SavedModels are
    python -m constrained_zoo.training.publishing.harvest /clean/runs/fashion_mnist results/fashion_mnist \\
        --models cnn_bn_10k,cnn_bn_50k --publish-seed 0

The runs behind the published tables are trained from a clean commit, so
in a checkout of it (a `git worktree` at that commit, another machine),
never in the working tree where the tables are written. What the
repository keeps of each run is its record (`records.RECORD_FILES`: the
settings and commit, the results, the history and, once measured, the
test-time shifts), never its weights, checkpoints or SavedModel.

For each model (a folder under `SWEEP/runs/`; `--models`, else every one
whose runs have all finished) this

1. refuses a model with a run still training (a `config.json` without
   `results.json`), and a sweep whose `recipe.json` is not the results
   folder's while other models of the folder stay (one folder, one
   recipe); where every model of the folder is replaced, so is its recipe;
2. replaces `RESULTS/runs/MODEL/` with the records of the sweep's runs:
   the old seeds go with it, so the table's row is the new runs and
   only them; the new folder is written beside the old and swapped in
   (`atomic.atomic_path`), so a reader never sees half of it;
3. with `--publish-seed S`, publishes seed S's weights from the sweep
   (`publish.publish`, which re-checks the test accuracy), naming its copy
   in `RESULTS` as the run (`--records`): the manifest points into the
   repository, not at the checkout that trained it.

Then regenerate the tables (`python -m constrained_zoo.training.report
RESULTS ...`, `... .shift RESULTS ...`, `... .readme --write`): the
command prints them.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import os
import shutil
import sys

from constrained_zoo.atomic import atomic_path, remove_leftovers

from ..run import rundir
from . import records

RECIPE = "recipe.json"


class HarvestError(ValueError):
    """A sweep that cannot be harvested as asked, said plainly."""


def models_of(sweep):
    """`{model folder: {"finished": [seed dirs], "training": [seed dirs]}}` under `SWEEP/runs/`."""
    found = {}
    runs = os.path.join(sweep, "runs")
    for model in sorted(n for n in os.listdir(runs) if not n.startswith(".")) if os.path.isdir(runs) else []:
        seeds = sorted(d for d in os.listdir(os.path.join(runs, model)) if d.startswith("seed"))
        state = found.setdefault(model, {"finished": [], "training": []})
        for seed in seeds:
            done = os.path.exists(os.path.join(runs, model, seed, rundir.RESULTS))
            state["finished" if done else "training"].append(seed)
    return found


def check_recipe(sweep, results_dir):
    """Refuses a sweep whose `recipe.json` differs from the results folder's (a folder holds one recipe)."""
    ours, theirs = rundir.read_json(os.path.join(sweep, RECIPE)), rundir.read_json(os.path.join(results_dir, RECIPE))
    strip = lambda recipe: {k: v for k, v in (recipe or {}).items() if k != "title"}  # noqa: E731  the title is prose
    if ours is not None and theirs is not None and strip(ours) != strip(theirs):
        changed = sorted(k for k in set(strip(ours)) | set(strip(theirs)) if strip(ours).get(k) != strip(theirs).get(k))
        raise HarvestError(f"{sweep!r} trained another recipe than {results_dir!r} holds (they differ in {changed}); "
                           "harvest it into a folder of its own.")


def chosen(sweep, names):
    """The model folders to harvest: `names`, else every one whose runs have all finished; refuses a run in training."""
    found = models_of(sweep)
    if not found:
        raise HarvestError(f"{sweep!r} has no runs/ folder with runs in it: is it a folder of python -m "
                           "constrained_zoo.training.sweep --out?")
    unknown = [n for n in names or [] if n not in found]
    if unknown:
        raise HarvestError(f"Invalid value for --models: {unknown} not under {os.path.join(sweep, 'runs')!r} "
                           f"(it holds {', '.join(found)})")
    names = names or [m for m, s in found.items() if s["finished"] and not s["training"]]
    training = {m: found[m]["training"] for m in names if found[m]["training"] or not found[m]["finished"]}
    if training:
        raise HarvestError(f"still training (no results.json): {training}; harvest a model once all its runs finished.")
    return names


def _copy(source, dest):
    with atomic_path(dest) as tmp:
        shutil.copyfile(source, tmp)


def copy_records(run_dir, dest):
    """Copies a run's record files into `dest` (created), each file atomically."""
    os.makedirs(dest, exist_ok=True)
    for name in records.RECORD_FILES:
        if os.path.exists(os.path.join(run_dir, name)):
            _copy(os.path.join(run_dir, name), os.path.join(dest, name))


def replace_model(sweep, results_dir, model):
    """`RESULTS/runs/MODEL` becomes the records of `SWEEP/runs/MODEL`'s runs (staged beside it, then swapped in)."""
    runs = os.path.join(results_dir, "runs")
    os.makedirs(runs, exist_ok=True)
    remove_leftovers(runs)  # of a harvest killed before
    final = os.path.join(runs, model)
    with atomic_path(final) as staged:  # a directory: the old one goes aside, the new one in, as one step
        for seed in models_of(sweep)[model]["finished"]:
            copy_records(os.path.join(sweep, "runs", model, seed), os.path.join(staged, seed))
    return sorted(os.listdir(final))


def harvest(sweep, results_dir, names=None, publish_seed=None, dataset=None, weights_dir=None, data_dir=None):
    """Harvests `names` (see the module); returns `{model: {"seeds": [...], "published": entry or None}}`."""
    from . import publish  # pylint: disable=import-outside-toplevel  (Keras only when publishing)

    names = chosen(sweep, names)
    kept = [m for m in models_of(results_dir) if m not in names]  # the folder's models this harvest leaves
    if kept:
        check_recipe(sweep, results_dir)
    seed = None if publish_seed is None else f"seed{publish_seed}"
    missing = [m for m in names if seed is not None and seed not in models_of(sweep)[m]["finished"]]
    if missing:
        raise HarvestError(f"--publish-seed {publish_seed}: {missing} have no finished {seed}")
    os.makedirs(os.path.join(results_dir, "runs"), exist_ok=True)
    if os.path.exists(os.path.join(sweep, RECIPE)) and (not kept or not os.path.exists(os.path.join(results_dir, RECIPE))):
        _copy(os.path.join(sweep, RECIPE), os.path.join(results_dir, RECIPE))  # every model replaced: the recipe too
    done = {}
    for model in names:
        seeds = replace_model(sweep, results_dir, model)
        entry = None
        if seed is not None:
            entry = publish.publish(os.path.join(sweep, "runs", model, seed), dataset, weights_dir=weights_dir,
                                    data_dir=data_dir, records=os.path.join(results_dir, "runs", model, seed))
        done[model] = {"seeds": seeds, "published": entry}
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m constrained_zoo.training.publishing.harvest",
        description="Copy a sweep's finished runs' records into a results folder (replacing those models' runs) "
                    "and optionally publish one seed's weights from there.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("sweep", help="a sweep's --out folder, in the checkout that trained it")
    parser.add_argument("results_dir", help="the results folder in this repository, e.g. results/fashion_mnist")
    parser.add_argument("--models", default=None, help="comma-separated model folders (default: every finished one)")
    parser.add_argument("--publish-seed", type=int, default=None, help="publish this seed's weights (default: none)")
    parser.add_argument("--dataset", default=None, help="with --publish-seed: a guard, as czoo-publish --dataset")
    parser.add_argument("--weights-dir", default=None, help="with --publish-seed: the weights root, as czoo-publish")
    parser.add_argument("--data-dir", default=None, help="with --publish-seed: where to look first for the test data")
    args = parser.parse_args(argv)
    if args.publish_seed is not None:
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        tf.config.experimental.enable_op_determinism()  # as czoo-publish
    names = [n for n in args.models.split(",") if n] if args.models else None
    try:
        done = harvest(args.sweep, args.results_dir, names, args.publish_seed, args.dataset, args.weights_dir,
                       args.data_dir)
    except ValueError as error:  # HarvestError, PublishError
        print(f"error: {error}", file=sys.stderr)
        return 2
    for model, what in done.items():
        entry = what["published"]
        print(f"{model}: {len(what['seeds'])} run(s) into {os.path.join(args.results_dir, 'runs', model)}"
              + (f"; published {entry['file']} (test accuracy {entry['test_accuracy']:.4f})" if entry else ""))
    print(f"next: python -m constrained_zoo.training.report {args.results_dir}; python -m constrained_zoo.training.shift "
          f"{args.results_dir}; python -m constrained_zoo.training.readme --write")
    return 0


if __name__ == "__main__":
    sys.exit(main())

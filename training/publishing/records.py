"""A run's records: the small files that stay in git when its weights, checkpoints and SavedModel do not.

A run trained in a clean checkout elsewhere (a worktree at a committed
snapshot, another machine) reaches the repository as its records:
`config.json` (settings, commit), `results.json`, `history.csv` and, once
the shift experiment has measured it, `shift.json`. The published weights
name that copy as their run (`publish(..., records=DIR)`), so that the
manifest points into the repository rather than at a folder that will be
gone; these checks keep the copy and the run, and the copy and the
manifest, from drifting apart.
"""

import filecmp
import os

from ..run import rundir

#: The files of a run that are its record (`shift.json` only once the shift experiment measured it).
RECORD_FILES = ("config.json", "results.json", "history.csv", "shift.json")
#: The ones every finished run has.
REQUIRED = RECORD_FILES[:3]


def differences(run_dir, records_dir):
    """The record files of `run_dir` that `records_dir` lacks or holds with other bytes (`[]`: a faithful copy)."""
    found = []
    for name in RECORD_FILES:
        ours, theirs = os.path.join(run_dir, name), os.path.join(records_dir, name)
        if not os.path.exists(ours):
            if name in REQUIRED:
                found.append(f"{name} (missing in the run)")
            continue
        if not os.path.exists(theirs):
            found.append(f"{name} (missing in the records)")
        elif not filecmp.cmp(ours, theirs, shallow=False):
            found.append(f"{name} (different)")
    return found


def disagreements(entry, records_dir):
    """What a manifest entry says that its records do not (`[]`: they agree).

    Compared: the model, dataset, seed, commit, every-weight count, and the
    test accuracy (the entry's is re-counted from the weights, so it may
    differ from the run's float32 figure by less than half an example).
    """
    config = rundir.read_json(os.path.join(records_dir, "config.json"))
    results = rundir.read_json(os.path.join(records_dir, "results.json"))
    if config is None or results is None:
        return [f"{os.fspath(records_dir)!r} holds no readable config.json and results.json"]
    args = config.get("args", {})
    pairs = {
        "model": (entry["model"], args.get("model")), "dataset": (entry["dataset"], args.get("dataset")),
        "seed": (entry["seed"], args.get("seed")), "commit": (entry["commit"], (config.get("git") or {}).get("commit")),
        "params": (entry.get("params"), results.get("params", entry.get("params"))),
    }
    found = [f"{key}: the manifest says {a!r}, the records {b!r}" for key, (a, b) in pairs.items() if a != b]
    if abs(entry["test_accuracy"] - results["test_accuracy"]) > 0.5 / entry["num_test"]:
        found.append(f"test accuracy: the manifest says {entry['test_accuracy']}, the records {results['test_accuracy']}")
    return found

"""A run's directory: what it holds, and the checks made before anything is written to it.

`RUN/config.json` (every setting, the code's commit, library versions),
`RUN/checkpoints/`, `RUN/history.csv`, `RUN/tensorboard/`, `RUN/train.log`,
and at the end `RUN/model.keras`, `RUN/saved_model/` and `RUN/results.json`.
"""

import hashlib
import json
import os
import platform
import shutil
import subprocess

from .. import settings

LOG_FILE = "train.log"
CONFIG = "config.json"
RESULTS = "results.json"
# What --overwrite discards.
_RUN_FILES = ("checkpoints", "tensorboard", "saved_model", RESULTS, "history.csv", "model.keras", LOG_FILE)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: The environment variable that allows what --allow-dirty allows (test suites, notebooks).
ALLOW_DIRTY_ENV = "CZOO_ALLOW_DIRTY"


class UsageError(ValueError):
    """A problem with the command line or the run directory, said plainly."""


def read_json(path, default=None):
    """The JSON in `path`, or `default` if it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def run_finished(run_dir, epochs):
    """Whether `run_dir/results.json` reports a run of `epochs` epochs."""
    return (read_json(os.path.join(run_dir, RESULTS)) or {}).get("epochs") == epochs


def epochs_on_disk(run_dir):
    """The epoch that `run_dir/checkpoints/checkpoint.json` names; 0 if there is none."""
    try:
        return int((read_json(os.path.join(run_dir, "checkpoints", "checkpoint.json")) or {})["epoch"])
    except (KeyError, TypeError, ValueError):
        return 0


def _check_writable(out):
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} exists and is not a directory.")
    existing = os.path.abspath(out)
    while not os.path.exists(existing):  # the folder that would hold it
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"--out {out!r} is not writable: Not a directory ({existing}).")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out!r} is not writable: Permission denied ({existing}).")


def _previous_args(out):
    config_path = os.path.join(out, CONFIG)
    if not os.path.exists(config_path):
        return None
    try:
        with open(config_path, encoding="utf-8") as f:
            return json.load(f)["args"]
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(
            f"{config_path} is not a run's config ({type(error).__name__}: {error}); "
            f"pass --overwrite to start over, or choose another --out."
        ) from None


def check_run_dir(out, values, resume, overwrite):
    """Validates --out against --resume/--overwrite, creating nothing; returns the resumed run's settings.

    Resume's rule is `settings.resume_conflicts`: the model, the seed and
    the recipe stay; --epochs may grow (not under a cosine schedule).
    """
    _check_writable(out)
    previous = _previous_args(out)
    if resume and overwrite:
        raise UsageError("--resume and --overwrite contradict each other: pass one.")
    if previous and not resume and not overwrite:
        raise UsageError(
            f"--out {out!r} already holds a run. Pass --resume to continue it, "
            f"--overwrite to start over, or choose another --out."
        )
    if previous and resume:
        changed = settings.resume_conflicts(previous, values)
        if changed:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise UsageError(f"--resume must keep the settings of the run in {out!r}; these differ: {detail}.")
        problem = settings.resume_epochs_error(previous, values)
        if problem:
            raise UsageError(problem)
    return previous if resume else None


def make_run_dir(out, overwrite):
    """Creates `out` (checking it is writable); with `overwrite`, discards the run it held."""
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        with open(probe, "w", encoding="utf-8") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as error:
        raise UsageError(f"--out {out!r} is not writable: {error.strerror or error}.") from None
    if overwrite:
        for name in _RUN_FILES:
            path = os.path.join(out, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)


def git_state(repo=REPO):
    """`{"commit": HEAD, "dirty": bool}` of the checkout holding this code, or None outside git.

    A dirty tree also records `diff_sha256`, the SHA-256 of `git diff HEAD`
    (tracked files; untracked ones, such as the results a run writes, do
    not count), so that two runs from the same uncommitted changes can be
    told to share their code, and runs from different ones told apart.
    """
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True,
                              timeout=30)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                                capture_output=True, text=True, check=True, timeout=30)
        state = {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}
        if state["dirty"]:
            diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=repo, capture_output=True, check=True,
                                  timeout=60)
            state["diff_sha256"] = hashlib.sha256(diff.stdout).hexdigest()
    except (OSError, subprocess.SubprocessError):
        return None
    return state


def check_clean(git, allow_dirty):
    """Refuses to train from a checkout with uncommitted changes, unless `allow_dirty`.

    A published figure must name the code that made it: a commit does, a
    commit plus uncommitted edits does not (the edits are not kept). With
    `allow_dirty` the run goes on and config.json records the diff's hash
    (`git_state`); reports and publishing mark such runs. Outside a git
    checkout (an installed package) there is nothing to check.

    Raises:
        UsageError: `git` is dirty and `allow_dirty` is false.
    """
    if git and git.get("dirty") and not allow_dirty:
        raise UsageError(
            f"the checkout at {REPO!r} has uncommitted changes to tracked files (commit {git['commit'][:12]} plus "
            f"edits): a run from it could not be traced to its code. Commit them, or pass --allow-dirty (or set "
            f"{ALLOW_DIRTY_ENV}=1) to train anyway; config.json then records the diff's SHA-256.")


def library_versions():
    """The versions config.json records: Python, TensorFlow, Keras and its backend, NumPy, the layers."""
    import keras  # pylint: disable=import-outside-toplevel
    import numpy  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    import constrained_layers  # pylint: disable=import-outside-toplevel

    return {
        "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
        "keras_backend": keras.backend.backend(), "numpy": numpy.__version__,
        "constrained_layers": constrained_layers.__version__,
    }


def environment():
    """What a run's floats can depend on beyond the code: the CPUs and TensorFlow's thread settings.

    BatchNormalization's training-time moments are reductions split over the
    intra-op threads: a run repeats bit for bit only with the same counts.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return {
        "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),  # 0: TensorFlow's default
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "TF_NUM_INTRAOP_THREADS": os.environ.get("TF_NUM_INTRAOP_THREADS"),
    }

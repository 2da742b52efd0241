"""Train a set of zoo models with one recipe; report accuracy against parameters.

    python -m training.sweep --dataset mnist1d --models "*1d*" --epochs 30 --seeds 3 --out results/mnist1d
    python -m training.sweep --dataset fashion_mnist --models "cnn_*,lc_*" --epochs 10 --out results/fashion_mnist

Each (model, seed) trains in its own process (`python -m training.train`)
into `OUT/runs/MODEL/seedS/` (`OUT/runs/MODEL-SLUG/seedS/` with
`--model-arg`, SLUG naming the overrides); a run that finished is skipped
and a run that was interrupted resumes from its last epoch, so a killed
sweep picks up where it stopped. After every run `OUT/results.csv`,
`results.md` and `accuracy_vs_params.png` are rewritten (atomically) from all
finished runs. Each run's output goes to its `train.log`; a failed run's
last lines are printed with the log's path.

Many workers: each run is locked while it trains (`fcntl.flock` on
`RUN/.lock`, held by the sweep and its training process), so any number of
sweep processes, on one machine or on many sharing a file system, can work
through one folder: each run is trained once. `--shard K/N` (K from 0 to
N-1: a SLURM array index or a Kubernetes completion index) takes runs K,
K+N, K+2N, ... of the list; a sweep then waits for the runs other
processes hold and takes over any that a dead process left unfinished.
`--jobs J` trains J runs at once; with G GPUs, job j sees only GPU j mod G
(`CUDA_VISIBLE_DEVICES`).

The folder's recipe (every setting but the models, seeds and where things
run) is written to `OUT/recipe.json`; a sweep with a different recipe is
refused, naming the settings that differ (how runs execute, `EXECUTION_KEYS`,
may differ between workers). Ctrl-C or SIGTERM stops every
training process at its last checkpoint and prints the command to continue.
"""

import argparse
import collections
import fcntl
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

from training import arguments, console
from training import train as train_cli
from training.report import RECIPE_DEFAULTS
from training.train import run_finished

RECIPE = "recipe.json"
LOCK = ".lock"
SEQUENCE_DATASETS = ("mnist1d",)
# The settings recipe.json records (with the title): every setting but the models and seeds.
RECIPE_KEYS = (
    "dataset", "epochs", "batch_size", "learning_rate", "lr_schedule", "max_train_examples",
    "validation_fraction", "augment", "pixel_shuffle", "mixed_precision", "jit_compile",
    "steps_per_execution", "strategy", "deterministic", "model_args", "flip", "label_smoothing", "weight_decay",
)
# How runs execute, not what they compute (as training.report's NOT_RECIPE): workers of one
# folder may differ in these (a GPU machine and a CPU one); recipe.json keeps the first's.
EXECUTION_KEYS = ("jit_compile", "steps_per_execution", "strategy", "deterministic")
TAIL_LINES = 20


def select_models(patterns, dataset):
    """Models matching the comma-separated `patterns` that can train on `dataset`.

    A dataset that some registry entries name keeps those models (the zoo's
    own choice: `fashion_mnist`, `digits`, `mnist1d`); any other dataset (a
    TFDS image-classification name) takes every image model, built for the
    dataset's input shape.
    """
    import models  # pylint: disable=import-outside-toplevel

    names = models.list_models([p.strip() for p in patterns.split(",") if p.strip()])
    meant = [n for n in names if dataset in models.model_entry(n).datasets]
    if meant or any(dataset in models.model_entry(n).datasets for n in models.list_models()):
        return meant
    rank = 1 if dataset in SEQUENCE_DATASETS else 2
    return [n for n in names if models.model_entry(n).rank == rank]


def model_slug(model_args):
    """A short name for a set of `--model-arg` overrides, stable across runs and machines.

    Example:

    >>> model_slug({"width": 64, "dropout": 0.1})
    'dropout0.1_width64'
    """
    text = re.sub(r"[^A-Za-z0-9._-]+", "", "_".join(f"{k}{json.dumps(v, sort_keys=True)}"
                                                     for k, v in sorted(model_args.items())))
    numbers = all(isinstance(v, (int, float)) for v in model_args.values())  # bools are ints
    if numbers and 0 < len(text) <= 32:
        return text
    digest = hashlib.sha1(json.dumps(model_args, sort_keys=True).encode()).hexdigest()[:8]
    return f"{text[:23]}-{digest}" if text else digest


def run_name(model, model_args):
    """`MODEL`, or `MODEL-SLUG` with overrides (see `model_slug`)."""
    return f"{model}-{model_slug(model_args)}" if model_args else model


def parse_shard(text):
    """`"K/N"` -> (K, N), 0 <= K < N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 0 <= int(match[1]) < int(match[2]):
        raise argparse.ArgumentTypeError(
            f"expected K/N with 0 <= K < N (K counts from 0, as SLURM_ARRAY_TASK_ID=0.. and "
            f"JOB_COMPLETION_INDEX do), got {text!r}"
        )
    return int(match[1]), int(match[2])


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m training.sweep",
        description="Train zoo models with one shared recipe and report test accuracy against parameter count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="fashion_mnist",
                        help="fashion_mnist, mnist1d, digits or any TFDS image-classification name")
    parser.add_argument("--models", default="*", help="comma-separated wildcards over models.list_models()")
    parser.add_argument("--epochs", type=arguments.positive_int, default=10)
    parser.add_argument("--batch-size", type=arguments.positive_int, default=128)
    parser.add_argument("--learning-rate", type=arguments.positive_float, default=1e-3)
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    parser.add_argument("--max-train-examples", type=arguments.positive_int, default=None)
    parser.add_argument("--validation-fraction", type=arguments.fraction, default=0.1,
                        help="held out from train; 0: none (the report then has no validation column)")
    parser.add_argument("--seeds", type=arguments.positive_int, default=1, help="seeds 0..K-1 per model")
    parser.add_argument("--augment", action="store_true", help="random translations of the training images")
    parser.add_argument("--flip", action="store_true", help="random horizontal flips of the training images")
    parser.add_argument("--label-smoothing", type=arguments.fraction, default=0.0,
                        help="smooth the one-hot targets: (1 - s)·onehot + s/classes")
    parser.add_argument("--weight-decay", type=arguments.non_negative_float, default=0.0,
                        help="decoupled weight decay (AdamW); 0: Adam")
    parser.add_argument("--pixel-shuffle", action="store_true", help="one fixed permutation of the pixels")
    parser.add_argument("--mixed-precision", choices=("mixed_float16", "mixed_bfloat16"), default=None,
                        help="compute in 16 bits (the loss stays float32)")
    parser.add_argument("--jit-compile", type=arguments.jit_compile, nargs="?", const=True, default="auto",
                        help="compile with XLA: auto (Keras's choice), true or false")
    parser.add_argument("--steps-per-execution", type=arguments.positive_int, default=1,
                        help="train steps per call into the backend")
    parser.add_argument("--strategy", choices=("default", "mirrored"), default="default",
                        help="each run's tf.distribute strategy (mirrored: all the GPUs a job sees)")
    parser.add_argument("--no-deterministic", dest="deterministic", action="store_false",
                        help="allow non-deterministic ops (default: deterministic=%(default)s)")
    parser.add_argument("--model-arg", dest="model_args", type=arguments.model_arg, action="append",
                        default=None, metavar="KEY=VALUE",
                        help="a builder argument for every model, repeatable (runs go to runs/MODEL-SLUG/)")
    parser.add_argument("--data-dir", default=None, help="where the data files are (see training.train)")
    parser.add_argument("--out", required=True, help="results directory, e.g. results/fashion_mnist")
    parser.add_argument("--title", default=None, help="the plot's title")
    parser.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="K/N",
                        help="take runs K, K+N, K+2N, ... of the list (K from 0 to N-1)")
    parser.add_argument("--jobs", type=arguments.positive_int, default=1,
                        help="runs trained at once on this machine (job j sees GPU j mod G)")
    parser.add_argument("--dry-run", action="store_true", help="list this shard's runs and exit")
    return parser


def recipe_of(args):
    """The folder's recipe: the settings every run in it shares, and the title."""
    recipe = {k: getattr(args, k) for k in RECIPE_KEYS}
    recipe["title"] = args.title
    return recipe


def check_recipe(out, recipe):
    """Writes `OUT/recipe.json`, or refuses a recipe that differs from the folder's."""
    from training.atomic import write_json  # pylint: disable=import-outside-toplevel

    path = os.path.join(out, RECIPE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            existing = json.load(f)
        # A recipe.json written before a setting existed meant its default.
        existing = {**{k: v for k, v in RECIPE_DEFAULTS.items() if k in RECIPE_KEYS}, **existing}
        differ = {k: (existing.get(k), recipe[k]) for k in RECIPE_KEYS
                  if k not in EXECUTION_KEYS and existing.get(k) != recipe[k]}
        if differ:
            detail = ", ".join(f"{k}: {a!r} in {RECIPE}, {b!r} now" for k, (a, b) in differ.items())
            raise train_cli.UsageError(
                f"{out} holds runs of another recipe; these settings differ: {detail}. "
                f"Use another --out, or the folder's settings."
            )
        if recipe["title"] is None or recipe["title"] == existing.get("title"):
            return
        recipe = {**existing, "title": recipe["title"]}
    write_json(path, recipe)


def visible_gpus(environ=None):
    """The GPU ids jobs are spread over: `CUDA_VISIBLE_DEVICES`'s, else `nvidia-smi -L`'s, else []."""
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        return [d for d in environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(listing.splitlines()) if line.startswith("GPU ")]


def job_environment(job, gpus, environ=None):
    """The environment of job `job`: only GPU `gpus[job % len(gpus)]` visible (unchanged without GPUs)."""
    env = dict(os.environ if environ is None else environ)
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = gpus[job % len(gpus)]
    return env


def train_command(args, model, seed, run_dir):
    """The `python -m training.train` command of one run."""
    command = [
        sys.executable, "-m", "training.train", "--model", model, "--dataset", args.dataset,
        "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
        "--learning-rate", str(args.learning_rate), "--lr-schedule", args.lr_schedule,
        "--validation-fraction", str(args.validation_fraction),
        "--jit-compile", str(args.jit_compile).lower(), "--steps-per-execution", str(args.steps_per_execution),
        "--strategy", args.strategy, "--seed", str(seed), "--out", run_dir, "--verbose", "2",
    ]
    for flag, value in (("--max-train-examples", args.max_train_examples), ("--data-dir", args.data_dir),
                        ("--mixed-precision", args.mixed_precision)):
        if value is not None:
            command += [flag, str(value)]
    command += ["--augment"] * args.augment + ["--flip"] * args.flip + ["--pixel-shuffle"] * args.pixel_shuffle
    for flag, value in (("--label-smoothing", args.label_smoothing), ("--weight-decay", args.weight_decay)):
        if value:  # the default (0) is left out, so commands of older recipes read as before
            command += [flag, str(value)]
    command += ["--no-deterministic"] * (not args.deterministic)
    for key, value in sorted(args.model_args.items()):
        command += ["--model-arg", f"{key}={json.dumps(value)}"]
    if os.path.exists(os.path.join(run_dir, "config.json")):
        command.append("--resume")
    return command


class Run:
    """One (model, seed) of the sweep, and its lock while this process trains it."""

    def __init__(self, index, total, model, seed, run_dir):
        self.index, self.total, self.model, self.seed, self.run_dir = index, total, model, seed, run_dir
        self.label = f"[{index}/{total}] {model} seed {seed}"
        self.lock = None
        self.process = None

    def try_lock(self, wait=False):
        """Takes the run's lock; False if another process holds it (and `wait` is False)."""
        os.makedirs(self.run_dir, exist_ok=True)
        lock = open(os.path.join(self.run_dir, LOCK), "a")  # pylint: disable=consider-using-with
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            lock.close()
            return False
        self.lock = lock
        return True

    def release(self):
        if self.lock is not None:
            self.lock.close()  # the training process closed its copy when it ended
            self.lock = None

    def epochs_done(self):
        state = os.path.join(self.run_dir, "checkpoints", "checkpoint.json")
        try:
            with open(state, encoding="utf-8") as f:
                return json.load(f)["epoch"]
        except (OSError, ValueError, KeyError):
            return 0


def _tail(path, lines=TAIL_LINES):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(collections.deque(f, maxlen=lines))
    except OSError:
        return ""


class Sweep:
    """Trains the runs of one shard, `jobs` at a time; see the module docstring."""

    def __init__(self, args, runs, gpus):
        self.args, self.runs, self.gpus = args, runs, gpus
        self.running = {}  # job slot -> Run
        self.failed = []
        self.start = time.perf_counter()

    def _report(self):
        from training.report import write_report  # pylint: disable=import-outside-toplevel

        # One writer at a time, so that the last table written is made from the most runs.
        with open(os.path.join(self.args.out, ".report.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return write_report(os.path.join(self.args.out, "runs"), self.args.out, self.args.dataset,
                                self.args.title)

    def _launch(self, run, slot):
        command = train_command(self.args, run.model, run.seed, run.run_dir)
        log_path = os.path.abspath(os.path.join(run.run_dir, train_cli.LOG_FILE))
        env = {**job_environment(slot, self.gpus), train_cli.LOG_CAPTURED_ENV: log_path}
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}: {shlex.join(command)}\n")
            log.flush()
            # Its own session: a Ctrl-C reaches the sweep, which stops it once. It inherits
            # the lock, so the run stays locked while it trains, even if the sweep is killed.
            run.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                pass_fds=(run.lock.fileno(),), start_new_session=True,
            )
        gpu = f" on GPU {env['CUDA_VISIBLE_DEVICES']}" if self.gpus else ""
        print(f"{run.label}: training{gpu} ({time.perf_counter() - self.start:.0f} s into the sweep)", flush=True)
        self.running[slot] = run

    def _finish(self, slot):
        run = self.running.pop(slot)
        code = run.process.returncode
        run.release()
        log_path = os.path.join(run.run_dir, train_cli.LOG_FILE)
        if code != 0:
            self.failed.append(f"{run.model} seed {run.seed}")
            print(f"{run.label}: FAILED (exit status {code}); the last lines of {log_path}:\n"
                  + "".join(f"    {line}" for line in _tail(log_path).splitlines(keepends=True))
                  + f"{run.label}: going on", flush=True)
            return
        rows = self._report()
        print(f"{run.label}: finished; {len(rows)} model(s) in {self.args.out}/results.md", flush=True)

    def _wait_for_a_slot(self):
        while len(self.running) >= self.args.jobs:
            self._reap()
            time.sleep(0.2)

    def _reap(self):
        for slot in [s for s, r in self.running.items() if r.process.poll() is not None]:
            self._finish(slot)

    def _take(self, run, wait):
        """Starts `run` if it is neither finished nor held by another process."""
        if run_finished(run.run_dir, self.args.epochs):
            return "done"
        if not run.try_lock(wait=wait):
            return "busy"
        if run_finished(run.run_dir, self.args.epochs):  # finished while we looked
            run.release()
            return "done"
        self._wait_for_a_slot()
        slot = min(set(range(self.args.jobs)) - set(self.running))
        self._launch(run, slot)
        return "started"

    def run(self):
        busy = []
        for run in self.runs:
            outcome = self._take(run, wait=False)
            if outcome == "done":
                print(f"{run.label}: done before, skipped", flush=True)
            elif outcome == "busy":
                print(f"{run.label}: another process is training it; back to it at the end", flush=True)
                busy.append(run)
        for run in busy:  # wait for its holder; train it if the holder died before the end
            if self._take(run, wait=True) == "done":
                print(f"{run.label}: finished by another process", flush=True)
        while self.running:
            self._reap()
            time.sleep(0.2)

    def stop(self, signum):
        """Stops every training process with `signum`, waits for it; returns what each reached."""
        for run in self.running.values():
            try:
                run.process.send_signal(signum)
            except ProcessLookupError:
                pass
        reached = []
        for run in self.running.values():
            run.process.wait()
            reached.append(f"epoch {run.epochs_done()} of {run.model} seed {run.seed}")
            run.release()
        self.running.clear()
        return reached


def main(argv=None):
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    try:
        args.model_args = train_cli.model_args_dict(args.model_args)
        from training.sources import check_data_dir, check_dataset  # pylint: disable=import-outside-toplevel

        check_dataset(args.dataset)
        check_data_dir(args.dataset, args.data_dir)
    except (ValueError, train_cli.UsageError) as error:
        print(f"error: {str(error).replace('argument `data_dir`', '--data-dir')}", file=sys.stderr)
        return 2
    names = select_models(args.models, args.dataset)
    if not names:
        print(f"error: no model matches --models {args.models!r} for dataset {args.dataset!r}; "
              f"see models.list_models().", file=sys.stderr)
        return 2
    everything = [(name, seed) for name in names for seed in range(args.seeds)]
    shard, shards = args.shard
    runs_dir = os.path.join(args.out, "runs")
    runs = [
        Run(i + 1, len(everything), name, seed, os.path.join(runs_dir, run_name(name, args.model_args), f"seed{seed}"))
        for i, (name, seed) in enumerate(everything) if i % shards == shard
    ]
    where = f" (shard {shard}/{shards}: {len(runs)} of them)" if shards > 1 else ""
    print(f"sweep: {len(names)} models × {args.seeds} seed(s) = {len(everything)} runs on {args.dataset}"
          f"{where} -> {args.out}")
    if args.dry_run:
        for run in runs:
            print(f"  {run.model} seed {run.seed} -> {run.run_dir}")
        return 0
    try:
        os.makedirs(args.out, exist_ok=True)
        check_recipe(args.out, recipe_of(args))
    except train_cli.UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: --out {args.out!r} is not writable: {error.strerror or error}.", file=sys.stderr)
        return 2
    sweep = Sweep(args, runs, visible_gpus() if args.jobs > 1 else [])
    try:
        with console.stop_on_signals():
            sweep.run()
    except console.StopRequested as stop:
        for signum in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C while the runs save is ignored
            signal.signal(signum, signal.SIG_IGN)
        reached = sweep.stop(stop.signum)
        what = "; ".join(reached) if reached else "no run in progress"
        print(f"stopped after {what}; continue with: {shlex.join([sys.executable, '-m', 'training.sweep', *argv])}",
              file=sys.stderr, flush=True)
        return stop.exit_status
    rows = sweep._report()  # pylint: disable=protected-access
    if rows:
        with open(os.path.join(args.out, "results.md"), encoding="utf-8") as f:
            print(f.read())
    print(f"sweep finished in {time.perf_counter() - sweep.start:.0f} s; table {args.out}/results.md, "
          f"plot {args.out}/accuracy_vs_params.png")
    if sweep.failed:
        print(f"failed runs: {', '.join(sweep.failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train a set of zoo models with one recipe; report accuracy against parameters.

    python -m constrained_zoo.training.sweep --dataset mnist1d --models "*1d*" --epochs 30 --seeds 3 --out results/mnist1d
    python -m constrained_zoo.training.sweep --dataset fashion_mnist --models "cnn_*,lc_*" --epochs 10 --out results/fashion_mnist

Each (model, seed) trains in its own process (`python -m constrained_zoo.training.train`,
with every training setting of this command: `training/settings.py`) into
`OUT/runs/MODEL/seedS/` (`OUT/runs/MODEL-SLUG/seedS/` with `--model-arg`,
SLUG naming the overrides); a run that finished is skipped and a run that
was interrupted resumes from its last epoch, so a killed sweep picks up
where it stopped. After every run `OUT/results.csv`, `results.md` and
`accuracy_vs_params.png` are rewritten (atomically) from all finished runs.
Each run's output goes to its `train.log`; a failed run's last lines are
printed with the log's path.

Many workers: any number of sweep processes, on one machine or on many
sharing a file system, can work through one folder; each run is trained
once and none waits for another (`training/sweeps/scheduler.py`).
`--shard K/N` (K from 0 to N-1: a SLURM array index or a Kubernetes
completion index) takes runs K, K+N, K+2N, ... of the list; `--jobs J`
trains J runs at once; with G GPUs, job j sees only GPU j mod G.

Sharing a folder between machines rests on `flock` being coherent across
them: before taking any run an unsharded sweep checks that locks exclude
another process (`sweeps/locks.py`) and, on a network file system, asks
for `--trust-folder-locks`. `--shard K/N` (one process per shard) needs no
cross-machine locks. `--executor ray` runs each run as a Ray task
(`sweeps/on_ray.py`): Ray places and retries them, and this process alone
writes the folder's shared files.

The folder's recipe (`settings.recipe_of`) is written to `OUT/recipe.json`
by the first sweep; a sweep with a different recipe is refused, naming the
settings that differ (execution settings may differ between workers).
Ctrl-C, SIGTERM, SIGHUP or SIGQUIT, whenever it comes, stops every training
process after its current batch (killed if still running a while later)
and prints the command to continue; the exit status is 128 + the signal.
"""

if __name__ == "__main__":  # a command: TensorFlow starts quietly (constrained_zoo/commands.py)
    from constrained_zoo.commands import quiet_tensorflow

    quiet_tensorflow()

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time

from constrained_zoo import arguments

from . import settings
from .run import rundir, signals
from .sweeps import locks, scheduler

#: How long a sweep waits for `.report.lock` after each run (the tables are rewritten by the next run if it can't).
REPORT_WAIT_SECONDS = 10.0


def select_models(patterns, dataset):
    """Models matching the comma-separated `patterns` that can train on `dataset`.

    A dataset that some registry entries name keeps those models (the zoo's
    own choice: `fashion_mnist`, `digits`, `mnist1d`); any other dataset takes
    every model of its rank (`constrained_zoo.datasets`; a TFDS
    image-classification name: every image model), built for the dataset's
    input shape.
    """
    from constrained_zoo import models  # pylint: disable=import-outside-toplevel
    from constrained_zoo.datasets import dataset_info, list_datasets  # pylint: disable=import-outside-toplevel

    names = models.list_models([p.strip() for p in patterns.split(",") if p.strip()])
    meant = [n for n in names if dataset in models.model_entry(n).datasets]
    if meant or any(dataset in models.model_entry(n).datasets for n in models.list_models()):
        return meant
    rank = dataset_info(dataset).rank if dataset in list_datasets() else 2
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
        prog="python -m constrained_zoo.training.sweep",
        description="Train zoo models with one shared recipe and report test accuracy against parameter count.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--models", default="*", help="comma-separated wildcards over models.list_models()")
    parser.add_argument("--seeds", type=arguments.positive_int, default=1, help="seeds 0..K-1 per model")
    settings.add_arguments(parser, "sweep")
    parser.add_argument("--out", required=True, help="results directory, e.g. results/fashion_mnist")
    parser.add_argument("--title", default=None, help="the plot's title")
    parser.add_argument("--shard", type=parse_shard, default=(0, 1), metavar="K/N",
                        help="take runs K, K+N, K+2N, ... of the list (K from 0 to N-1)")
    parser.add_argument("--jobs", type=arguments.positive_int, default=1,
                        help="runs trained at once on this machine (job j sees GPU j mod G)")
    parser.add_argument("--stall-minutes", type=arguments.non_negative_float, default=30.0,
                        help="report a training process that writes nothing to its run's folder this long (0: never)")
    parser.add_argument("--trust-folder-locks", action="store_true",
                        help="the folder's file system has flock locks coherent across machines (NFS without "
                             "local_lock, Lustre with `flock`, BeeGFS with global file locks): needed to share an "
                             "unsharded folder on a network file system (docs/scaling.md)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="local: training processes on this machine; ray: one Ray task per run, placed and "
                             "retried by Ray, this process writing the folder's shared files")
    parser.add_argument("--cpus-per-run", type=arguments.non_negative_float, default=1.0,
                        help="with --executor ray: the CPUs each run's task reserves (Ray's num_cpus)")
    parser.add_argument("--gpus-per-run", type=arguments.non_negative_float, default=0.0,
                        help="with --executor ray: the GPUs each run's task reserves (Ray's num_gpus)")
    parser.add_argument("--ray-address", default=None,
                        help="with --executor ray: the cluster (default: Ray's choice: $RAY_ADDRESS, the cluster "
                             "`ray start` runs here, or a new local instance)")
    parser.add_argument("--dry-run", action="store_true", help="list this shard's runs and exit")
    return parser


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


def check(values):
    """The checks made before anything is written; returns the selected model names."""
    from .data.sources import check_data_dir, check_dataset  # pylint: disable=import-outside-toplevel

    if values["strategy"] == "multiworker":
        raise rundir.UsageError("--strategy multiworker runs one model on many machines: use python -m "
                                "constrained_zoo.training.train on each worker; a sweep's runs take default or mirrored.")
    rundir.check_clean(rundir.git_state(), values["allow_dirty"] or os.environ.get(rundir.ALLOW_DIRTY_ENV) == "1")
    try:
        check_dataset(values["dataset"])
        check_data_dir(values["dataset"], values["data_dir"])
    except ValueError as error:
        raise rundir.UsageError(str(error).replace("argument `data_dir`", "--data-dir")) from None


def write_report(out, dataset, title=None, timeout=None, optional_locks=False):
    """The folder's tables and plot from every finished run, one writer at a time; returns the rows.

    Waits at most `timeout` seconds for another writer (`locks.LockTimeout`).
    """
    from .report import write_report as write  # pylint: disable=import-outside-toplevel

    # A leaf lock: held only while this process writes, so the last table written has the most runs.
    with scheduler.short_lock(os.path.join(out, ".report.lock"), optional_locks, timeout):
        return write(os.path.join(out, "runs"), out, dataset, title)


def check_folder(args):
    """Before any run is taken: the folder's locks hold where this sweep relies on them (else `UsageError`).

    A Ray sweep's driver is the folder's only writer, and one process per
    shard needs no lock; an unsharded sweep relies on locks: a second
    process must find a lock held (`locks.probe`), and on a network file
    system, where they may hold on one machine only, the user vouches for
    them with --trust-folder-locks.
    """
    if args.executor == "ray" or args.shard[1] > 1:
        return
    try:
        coherent = locks.probe(args.out)
    except locks.LockUnsupported as error:
        raise rundir.UsageError(str(error)) from None
    if not coherent:
        raise rundir.UsageError(f"a lock held in {args.out} did not exclude another process: this file system "
                                f"ignores flock, so sweeps cannot share the folder. Use a local folder, --shard K/N "
                                f"with one process per shard, or --executor ray (docs/scaling.md).")
    kind = locks.network_file_system(args.out)
    if kind and not args.trust_folder_locks:
        raise rundir.UsageError(
            f"--out {args.out!r} is on {kind}, a file system shared between machines, where flock may lock on one "
            f"machine only (NFS mounted with local_lock, Lustre with localflock, BeeGFS by default): sweeps on "
            f"two machines could then train a run twice. Check the mount (docs/scaling.md) and pass "
            f"--trust-folder-locks, or split the runs with --shard K/N, or use --executor ray.")


def plan(args, values):
    """This shard's `scheduler.Run`s."""
    names = select_models(args.models, values["dataset"])
    if not names:
        raise rundir.UsageError(f"no model matches --models {args.models!r} for dataset {values['dataset']!r}; "
                                f"see models.list_models().")
    everything = [(name, seed) for name in names for seed in range(args.seeds)]
    shard, shards = args.shard
    runs = [scheduler.Run(i + 1, len(everything), name, seed,
                          os.path.join(args.out, "runs", run_name(name, values["model_args"]), f"seed{seed}"))
            for i, (name, seed) in enumerate(everything) if i % shards == shard]
    where = f" (shard {shard}/{shards}: {len(runs)} of them)" if shards > 1 else ""
    print(f"sweep: {len(names)} models × {args.seeds} seed(s) = {len(everything)} runs on {values['dataset']}"
          f"{where} -> {args.out}", flush=True)
    return runs


def main(argv=None):
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    try:
        values = settings.values_of(args, "sweep")
        check(values)
        runs = plan(args, values)
        if args.dry_run:
            for run in runs:
                print(f"  {run.model} seed {run.seed} -> {run.run_dir}")
            return 0
        if args.executor == "ray":
            from .sweeps import on_ray  # pylint: disable=import-outside-toplevel

            on_ray.ray_module()
        os.makedirs(args.out, exist_ok=True)
        check_folder(args)
        scheduler.claim_recipe(args.out, values, args.title, optional_locks=args.shard[1] > 1)
    except (rundir.UsageError, settings.SettingsError, locks.LockUnsupported, locks.LockTimeout) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: --out {args.out!r} is not writable: {error.strerror or error}.", file=sys.stderr)
        return 2
    return sweep(args, values, runs, argv)


def executor(args, values, runs, on_finished):
    """The `scheduler.Sweep` (local) or `on_ray.RaySweep` that trains `runs`."""
    if args.executor == "ray":
        from .sweeps import on_ray  # pylint: disable=import-outside-toplevel

        return on_ray.RaySweep(values, args.out, runs, on_finished, num_cpus=args.cpus_per_run,
                               num_gpus=args.gpus_per_run, address=args.ray_address)
    return scheduler.Sweep(values, args.out, runs, args.jobs, visible_gpus() if args.jobs > 1 else [], on_finished,
                           stall_seconds=args.stall_minutes * 60 or None, optional_locks=args.shard[1] > 1)


def sweep(args, values, runs, argv):
    """Trains the runs; returns the exit status: 0, 1 if a run failed or the tables were not written, 128 + the
    signal if stopped."""
    optional = args.shard[1] > 1

    def finished(run):
        try:
            rows = write_report(args.out, values["dataset"], args.title, REPORT_WAIT_SECONDS, optional)
        except locks.LockTimeout as error:
            print(f"{run.label}: finished; the tables wait for a later run: {error}", file=sys.stderr, flush=True)
            return
        print(f"{run.label}: finished; {len(rows)} model(s) in {args.out}/results.md", flush=True)

    job = executor(args, values, runs, finished)
    try:
        with signals.stop_on_signals():  # ends with StopRequested for a stop that came at any moment inside
            signals.stop_with_parent()  # a sweep that a protocol driver started stops if the driver dies
            job.run()  # stops every training process it started before anything propagates
            rows = write_report(args.out, values["dataset"], args.title, optional_locks=optional)
            signals.raise_if_stopped()
    except signals.StopRequested as stop:
        what = "; ".join(job.reached) if job.reached else "no run in progress"
        print(f"stopped after {what}; continue with: {settings.python_command('constrained_zoo.training.sweep', argv)}",
              file=sys.stderr, flush=True)
        return stop.exit_status
    except locks.LockUnsupported as error:  # every run this sweep started has stopped
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    except locks.LockTimeout as error:  # the final tables
        print(f"error: the tables were not rewritten: {error}. The same command writes them.", file=sys.stderr,
              flush=True)
        return 1
    if rows:
        with open(os.path.join(args.out, "results.md"), encoding="utf-8") as f:
            print(f.read())
    print(f"sweep finished in {time.perf_counter() - job.start:.0f} s; table {args.out}/results.md, "
          f"plot {args.out}/accuracy_vs_params.png")
    if job.failed:
        print(f"failed runs: {', '.join(job.failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m constrained_zoo.training.sweep`: shards, per-run locks, jobs, flags passed through, recipes, stops.

Sweeps run as users run them, in subprocesses, on 8×8 digits with
`mlp_linear` (one epoch: ~10 s of CPU per run, most of it starting
TensorFlow). Several sweep processes work through one folder, one of them
SIGKILLed mid-run: every run is trained exactly once (each run's
`train.log` holds one "test accuracy" line) and the table is a serial
sweep's.
"""

import json
import csv
import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from tests.training import cli
from constrained_zoo.training import settings, sweep
from constrained_zoo.training.run import rundir
from constrained_zoo.training.sweeps import scheduler
from constrained_zoo.training import train as train_module

pytestmark = pytest.mark.tensorflow_only

TINY = ("--dataset", "digits", "--models", "mlp_linear", "--epochs", 1, "--seeds", 2, "--batch-size", 64)


def sweep_command(out, *args):
    return [sys.executable, "-m", "constrained_zoo.training.sweep", "--out", os.fspath(out), *map(str, args)]


def start_sweep(out, *args, log):
    with open(log, "w") as f:
        return subprocess.Popen(sweep_command(out, *args), cwd=cli.REPO, env=cli.ENV,
                                stdout=f, stderr=subprocess.STDOUT, text=True)


def run_sweep(out, *args):
    return subprocess.run(sweep_command(out, *args), cwd=cli.REPO, env=cli.ENV,
                          capture_output=True, text=True, timeout=cli.TIMEOUT)


def table(out):
    """results.csv without its timing column (the one thing that differs between machines)."""
    with open(os.path.join(out, "results.csv"), encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if k != "train_seconds_mean"} for row in csv.DictReader(f)]


def trainings(out):
    """{run directory: number of completed trainings its train.log shows}."""
    found = {}
    for root, _, files in os.walk(os.path.join(out, "runs")):
        if "train.log" in files:
            with open(os.path.join(root, "train.log"), encoding="utf-8") as f:
                found[os.path.relpath(root, out)] = sum("test accuracy" in line for line in f)
    return found


# ------------------------------------------------------------ units
@pytest.mark.parametrize("text, expected", [("0/1", (0, 1)), ("1/2", (1, 2)), (" 3 / 4 ", (3, 4))])
def test_parse_shard(text, expected):
    assert sweep.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["2/2", "1", "a/b", "3/2", "0/0"])
def test_bad_shard_names_the_argument_and_value(text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        sweep.build_parser().parse_args(["--out", "x", "--shard", text])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--shard" in err and f"got {text!r}" in err and "0 <= K < N" in err


def test_shards_interleave_and_cover_the_runs_once(tmp_path, capsys):
    listed = []
    for k in range(3):
        code = sweep.main(["--dataset", "digits", "--models", "mlp_linear,mlp_small", "--seeds", 3,
                           "--shard", f"{k}/3", "--dry-run", "--out", tmp_path])
        assert code == 0
        listed.append(re.findall(r"^  (\S+) seed (\d)", capsys.readouterr().out, re.MULTILINE))
    everything = [(m, s) for m in ("mlp_linear", "mlp_small") for s in "012"]
    assert listed == [everything[k::3] for k in range(3)]
    assert not os.listdir(tmp_path)  # a dry run writes nothing


def test_model_args_name_their_runs_stably():
    assert sweep.run_name("cnn_small", {}) == "cnn_small"
    assert sweep.run_name("cnn_small", {"width": 64, "dropout": 0.1}) == "cnn_small-dropout0.1_width64"
    long = {"padding_mode": "circular", "implementation": "fft", "width": 128}
    slug = sweep.model_slug(long)
    assert slug == sweep.model_slug(dict(reversed(long.items()))) and len(slug) <= 32
    assert sweep.model_slug({"width": "1"}) != sweep.model_slug({"width": 1})


def _values(argv):
    args = sweep.build_parser().parse_args([str(a) for a in argv])
    return settings.values_of(args, "sweep")


def _child_command(values, model, seed, run_dir):
    return scheduler.Sweep(values, "o", []).command(scheduler.Run(1, 1, model, seed, run_dir))


def test_every_training_flag_reaches_training_train():
    argv = ["--out", "o", "--dataset", "cifar10", "--epochs", 3, "--batch-size", 7, "--learning-rate", 0.5,
            "--lr-schedule", "cosine", "--max-train-examples", 9, "--validation-fraction", 0, "--augment",
            "--pixel-shuffle", "--mixed-precision", "mixed_bfloat16", "--jit-compile", "false",
            "--steps-per-execution", 4, "--strategy", "mirrored", "--no-deterministic", "--shift", 2,
            "--logical-cpus", 3, "--flip", "--label-smoothing", 0.1, "--weight-decay", 0.05,
            "--model-arg", "width=64", "--model-arg", 'padding_mode="circular"', "--data-dir", "/data"]
    values = _values(argv)
    command = _child_command(values, "cnn_small", 2, "o/runs/cnn_small/seed2")
    assert command[:3] == [sys.executable, "-m", "constrained_zoo.training.train"]
    trained = vars(train_module.build_parser().parse_args(command[3:]))
    trained = settings.normalized(trained)
    for setting in settings.settings(command="sweep"):
        assert trained[setting.name] == values[setting.name], setting.name
    assert (trained["model"], trained["seed"], trained["out"]) == ("cnn_small", 2, "o/runs/cnn_small/seed2")
    assert trained["model_args"] == {"width": 64, "padding_mode": "circular"}


def test_a_tfds_dataset_takes_every_image_model():
    assert sweep.select_models("cnn_small,mlp_1d_tiny,lenet5", "cifar10") == ["cnn_small", "lenet5"]
    assert sweep.select_models("cnn_small,mlp_1d_tiny", "mnist1d") == ["mlp_1d_tiny"]


@pytest.mark.parametrize("gpus, expected", [(["0", "1"], ["0", "1", "0", "1", "0"]), (["3"], ["3"] * 5)])
def test_job_j_sees_gpu_j_mod_g(gpus, expected):
    assert [scheduler.job_environment(j, gpus, {})["CUDA_VISIBLE_DEVICES"] for j in range(5)] == expected


def test_without_gpus_jobs_keep_the_environment():
    assert scheduler.job_environment(3, [], {"A": "1"}) == {"A": "1"}
    assert sweep.visible_gpus({"CUDA_VISIBLE_DEVICES": "2,5"}) == ["2", "5"]
    assert sweep.visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []


def test_a_folder_refuses_another_recipe(tmp_path):
    values = _values(["--out", tmp_path])
    scheduler.claim_recipe(tmp_path, values, "first")
    recipe = cli.read_json(tmp_path / "recipe.json")
    assert recipe["epochs"] == 10 and recipe["title"] == "first"
    other = _values(["--out", tmp_path, "--epochs", 20, "--flip"])
    with pytest.raises(rundir.UsageError, match=r"these settings differ: epochs: 10 in recipe.json, 20 now, "
                                                r"flip: False in recipe.json, True now"):
        scheduler.claim_recipe(tmp_path, other, None)
    # The title is recorded, not compared; how a worker executes, and the model overrides, may differ.
    same = _values(["--out", tmp_path, "--jit-compile", "true", "--steps-per-execution", 8, "--model-arg", "width=2"])
    scheduler.claim_recipe(tmp_path, same, "second")
    recipe = cli.read_json(tmp_path / "recipe.json")
    assert recipe["title"] == "second" and recipe["jit_compile"] == "auto"


def test_missing_data_dir_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    code = sweep.main(["--dataset", "fashion_mnist", "--data-dir", tmp_path / "nowhere", "--out", out])
    assert code == 2 and "--data-dir" in capsys.readouterr().err and not out.exists()


# ------------------------------------------------------------ processes
def test_a_failed_run_prints_its_last_lines_and_log(tmp_path):
    run_dir = tmp_path / "runs" / "mlp_linear" / "seed0"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text("{half")
    done = run_sweep(tmp_path, *TINY[:-4], "--seeds", 1)
    cli.check(done, returncode=1)
    log = os.path.join(tmp_path, "runs", "mlp_linear", "seed0", "train.log")
    assert f"FAILED (exit status 2); the last lines of {log}:" in done.stdout
    assert "config.json is not a run's config" in done.stdout  # the tail of the log
    assert "failed runs: mlp_linear seed 0" in done.stderr


def test_ctrl_c_stops_a_sweep_with_one_line(tmp_path):
    proc = start_sweep(tmp_path, "--dataset", "digits", "--models", "mlp_small", "--epochs", 40,
                       "--batch-size", 32, log=tmp_path / "log")
    run_dir = tmp_path / "runs" / "mlp_small" / "seed0"
    try:
        cli.wait_for(lambda: (cli.checkpoint_state(run_dir) or {}).get("epoch", 0) >= 1 or proc.poll() is not None,
                     timeout=cli.TIMEOUT, what="a first checkpoint")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=cli.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = (tmp_path / "log").read_text()
    assert proc.returncode == 130, output
    assert "Traceback" not in output and "Traceback" not in (run_dir / "train.log").read_text()
    stopped = [line for line in output.splitlines() if line.startswith("stopped after")]
    assert len(stopped) == 1, output
    epoch = cli.checkpoint_state(run_dir)["epoch"]
    assert stopped[0].startswith(f"stopped after epoch {epoch} of mlp_small seed 0; continue with: ")
    assert stopped[0].endswith("-m constrained_zoo.training.sweep --out " + str(tmp_path) + " --dataset digits --models mlp_small "
                               "--epochs 40 --batch-size 32")


@pytest.fixture(scope="module")
def serial_table(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    cli.check(run_sweep(out, *TINY))
    assert trainings(out) == {os.path.join("runs", "mlp_linear", f"seed{s}"): 1 for s in range(2)}
    return table(out)


def concurrent_sweeps(out, argvs, kill, log_dir):
    """Starts one sweep per argv on `out`; SIGKILLs the `kill`-th once it trains; waits for the rest."""
    procs = [start_sweep(out, *argv, log=log_dir / f"sweep{i}.log") for i, argv in enumerate(argvs)]
    try:
        cli.wait_for(lambda: "training" in (log_dir / f"sweep{kill}.log").read_text() or procs[kill].poll() is not None,
                     timeout=cli.TIMEOUT, what="the sweep to be killed to start a run")
        procs[kill].kill()
        for proc in procs:
            proc.wait(timeout=cli.TIMEOUT)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return [(proc.returncode, (log_dir / f"sweep{i}.log").read_text()) for i, proc in enumerate(procs)]


def test_three_sweeps_one_killed_train_every_run_once(tmp_path, serial_table):
    """Sharded and not, on one folder: the killed sweep's run is finished by its own process."""
    out = tmp_path / "out"
    logs = tmp_path / "logs"
    logs.mkdir()
    ended = concurrent_sweeps(out, [TINY, (*TINY, "--shard", "0/2"), (*TINY, "--shard", "1/2")], 0, logs)
    for code, log in ended[1:]:
        assert code == 0, log
    assert trainings(out) == {os.path.join("runs", "mlp_linear", f"seed{s}"): 1 for s in range(2)}
    assert table(out) == serial_table


@pytest.mark.slow
def test_three_sweeps_with_jobs_one_killed_on_more_runs(tmp_path):
    """Four runs, two of them by one sweep at once (`--jobs 2`), against a serial sweep of the same."""
    runs = ("--dataset", "digits", "--models", "mlp_linear,mlp_small", "--epochs", 2, "--seeds", 2)
    serial = tmp_path / "serial"
    cli.check(run_sweep(serial, *runs))
    out = tmp_path / "out"
    logs = tmp_path / "logs"
    logs.mkdir()
    ended = concurrent_sweeps(out, [(*runs, "--shard", "0/2"), (*runs, "--jobs", 2), (*runs, "--shard", "1/2")],
                              1, logs)
    for code, log in (ended[0], ended[2]):
        assert code == 0, log
    expected = {os.path.join("runs", m, f"seed{s}"): 1 for m in ("mlp_linear", "mlp_small") for s in range(2)}
    cli.wait_for(lambda: trainings(out) == expected, timeout=cli.TIMEOUT, what="every run trained once")
    cli.check(run_sweep(out, *runs))  # a last sweep finds everything done and writes the table
    assert trainings(out) == expected
    assert table(out) == table(serial)


# ------------------------------------------------------------ examples/
def test_slurm_example_runs_its_shard(tmp_path):
    """examples/slurm_sweep.sh as array task 1 of 3 (with --dry-run appended: it lists its runs)."""
    env = {**cli.ENV, "SLURM_ARRAY_TASK_ID": "1", "SHARDS": "3", "OUT": str(tmp_path / "out"),
           "SLURM_SUBMIT_DIR": cli.REPO}
    done = subprocess.run(["bash", os.path.join(cli.REPO, "examples", "slurm_sweep.sh"), "--dry-run"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=cli.TIMEOUT)
    cli.check(done)
    assert "(shard 1/3:" in done.stdout
    listed = re.findall(r"^  (\S+) seed (\d)", done.stdout, re.MULTILINE)
    names = sweep.select_models("*", "fashion_mnist")
    assert listed == [(m, str(s)) for m in names for s in range(2)][1::3]
    assert not (tmp_path / "out").exists()


def test_kubernetes_example_runs_one_shard_per_index():
    with open(os.path.join(cli.REPO, "examples", "kubernetes_sweep.yaml"), encoding="utf-8") as f:
        text = f.read()
    assert "completionMode: Indexed" in text
    completions = int(re.search(r"^  completions: (\d+)$", text, re.MULTILINE)[1])
    assert int(re.search(r"^  parallelism: (\d+)$", text, re.MULTILINE)[1]) == completions
    folded = re.search(r"- >-\n((?:              .*\n)+)", text)[1]  # the container's command line
    command = " ".join(line.strip() for line in folded.splitlines())
    for index in range(completions):
        argv = shlex.split(command.replace("${JOB_COMPLETION_INDEX}", str(index)))
        assert argv[:3] == ["exec", "python", "-m"] and argv[3] == "constrained_zoo.training.sweep"
        args = sweep.build_parser().parse_args(argv[4:])
        assert args.shard == (index, completions) and args.out == "/results/fashion_mnist"


def test_a_recipe_json_from_before_a_setting_reads_as_its_default(tmp_path):
    values = _values(["--out", tmp_path])
    old = {k: v for k, v in settings.recipe_of(values).items() if k not in ("flip", "label_smoothing", "weight_decay")}
    (tmp_path / "recipe.json").write_text(json.dumps(old))
    scheduler.claim_recipe(tmp_path, values, None)  # accepted: the defaults are what it meant
    with pytest.raises(rundir.UsageError, match=r"flip: False in recipe.json, True now, "
                                                r"label_smoothing: 0.0 in recipe.json, 0.1 now"):
        scheduler.claim_recipe(tmp_path, _values(["--out", tmp_path, "--flip", "--label-smoothing", 0.1]), None)


def test_recipe_settings_reach_the_train_command(tmp_path):
    values = _values(["--out", tmp_path, "--flip", "--label-smoothing", "0.1", "--weight-decay", "0.05"])
    command = _child_command(values, "cnn_small", 0, str(tmp_path / "run"))
    assert "--flip" in command
    assert command[command.index("--label-smoothing") + 1] == "0.1"
    assert command[command.index("--weight-decay") + 1] == "0.05"
    command = _child_command(_values(["--out", tmp_path]), "cnn_small", 0, str(tmp_path / "run"))
    assert "--flip" not in command and command[command.index("--weight-decay") + 1] == "0.0"


def test_a_sweep_refuses_multiworker_runs_before_writing_anything(tmp_path, capsys):
    out = tmp_path / "out"
    assert sweep.main(["--dataset", "digits", "--models", "mlp_linear", "--strategy", "multiworker", "--out", out]) == 2
    assert "--strategy multiworker runs one model on many machines" in capsys.readouterr().err
    assert not out.exists()

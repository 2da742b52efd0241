"""Issue #13, item 3: the training CLIs never lose work and never hide a mistake.

Each test names the mistake or the accident it guards against: a wrong
`--data-dir`, a bad argument leaving a directory behind, NaN in JSON files,
Ctrl-C/SIGTERM, a resumed run with changed settings, multi-worker writers.
Mistakes are tested in-process through `train.main`; signals on real
processes, with the zoo's smallest models on 8×8 digits.
"""

import json
import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from tests.training import cli
from constrained_zoo.training import train as train_module

pytestmark = pytest.mark.tensorflow_only

STOPPED = re.compile(r"^stopped after epoch (\d+); continue with: (.+)$")


def run_main(argv, capsys):
    code = train_module.main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


def strict_json(path):
    """Parses a JSON file, failing on NaN/Infinity (not JSON, though Python writes them)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f, parse_constant=lambda name: pytest.fail(f"{path} holds {name}"))


# ------------------------------------------------------------ --data-dir and early checks
@pytest.mark.parametrize("dataset, make, message", [
    ("fashion_mnist", None, "no such folder"),
    ("fashion_mnist", "empty", "holds no Fashion-MNIST (lacks train-images-idx3-ubyte[.gz]"),
    ("digits", "empty", "dataset 'digits' is shipped with scikit-learn and reads no folder"),
    ("mnist", "empty", "holds no copy of the TFDS dataset 'mnist'"),
])
def test_data_dir_that_is_missing_or_empty_is_an_error_naming_it(tmp_path, capsys, dataset, make, message):
    data_dir = tmp_path / "data"
    if make == "empty":
        data_dir.mkdir()
    out = tmp_path / "run"
    code, err = run_main(["--model", "mlp_linear", "--dataset", dataset, "--data-dir", data_dir, "--out", out], capsys)
    assert code == 2
    assert err.startswith("error: Invalid value for --data-dir") and message in err
    assert f"data_dir={str(data_dir)!r}" in err
    assert not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "digitz"], "Unknown dataset"),
    (["--dataset", "digits", "--shift", 9], "shift"),
    (["--dataset", "mnist1d"], "takes images"),
    (["--dataset", "digits", "--model-arg", "no_such_argument=3"], "--model-arg {'no_such_argument': 3}"),
    (["--dataset", "digits", "--model-arg", "width=1", "--model-arg", "width=2"], "--model-arg width is given twice"),
])
def test_a_mistake_leaves_no_directory_behind(tmp_path, capsys, argv, message):
    out = tmp_path / "deep" / "run"
    code, err = run_main(["--model", "mlp_linear", *argv, "--out", out], capsys)
    assert code == 2 and message in err, err
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize("value", ["1", "-0.1", "half"])
def test_validation_fraction_out_of_range_is_refused_by_the_parser(capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        train_module.build_parser().parse_args(["--model", "m", "--validation-fraction", value])
    assert exit_info.value.code == 2
    assert f"expected a number in [0, 1), got {value}" in capsys.readouterr().err


def test_resume_refuses_changed_model_args(tmp_path, capsys):
    run_dir = tmp_path / "existing"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"args": {
        "model": "mlp_linear", "dataset": "digits", "batch_size": 128, "learning_rate": 1e-3, "seed": 0,
        "max_train_examples": None, "validation_fraction": 0.1, "augment": False, "pixel_shuffle": False,
        "shift": 0, "mixed_precision": None, "lr_schedule": "constant",  # written before model_args existed
    }}))
    code, err = run_main(["--model", "mlp_linear", "--dataset", "digits", "--epochs", 2, "--out", run_dir,
                          "--resume", "--model-arg", "width=3"], capsys)
    assert code == 2 and "model_args: {} -> {'width': 3}" in err


def test_corrupt_config_is_an_error_not_a_traceback(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{half")
    code, err = run_main(["--model", "mlp_linear", "--dataset", "digits", "--out", tmp_path, "--resume"], capsys)
    assert code == 2 and "config.json is not a run's config" in err and "--overwrite" in err


# ------------------------------------------------------------ no NaN in JSON
def test_validation_fraction_zero_end_to_end_with_report_and_demo(tmp_path):
    """No validation set: null (not NaN) in every JSON file; the report and the demo work."""
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "constrained_zoo.training.demo", "--out", out, "--models", "mlp_linear", "--epochs", "1",
         "--max-train-examples", "64", "--validation-fraction", "0", "--published", "mlp_linear"],
        cwd=cli.REPO, env=cli.ENV, capture_output=True, text=True, timeout=cli.TIMEOUT,
    )
    cli.check(done)
    assert "best model by final training accuracy (no validation set): mlp_linear" in done.stdout
    run_dir = out / "runs" / "mlp_linear" / "seed0"
    assert strict_json(run_dir / "results.json")["best_val_accuracy"] is None
    assert strict_json(out / "best_model.json")["chosen_by"] == "final training accuracy (no validation set)"
    assert strict_json(run_dir / "config.json")["args"]["validation_fraction"] == 0
    # Part 2 re-checks the shipped weights and shows the short run's figures beside them.
    assert "all 1 re-computed test accuracies equal the manifest's" in done.stdout
    assert "| mlp_linear | mlp | 7,850 | 0.8527 | 0.8448 | 0.8448 | match | " in done.stdout
    for path in [p for p in out.rglob("*.json")]:
        strict_json(path)
    report = subprocess.run([sys.executable, "-m", "constrained_zoo.training.report", out, "--dataset", "fashion_mnist"],
                            cwd=cli.REPO, env=cli.ENV, capture_output=True, text=True, timeout=cli.TIMEOUT)
    cli.check(report)
    assert "| mlp_linear" in report.stdout


# ------------------------------------------------------------ SIGINT, SIGTERM
LONG_RUN = ("--model", "mlp_small", "--dataset", "digits", "--batch-size", 32, "--epochs", 8, "--verbose", 2,
            "--jit-compile", "false")


def stop_midway(run_dir, signum, log):
    """Starts LONG_RUN, signals it after its first checkpoint; returns (exit status, output)."""
    proc = cli.start_train(run_dir, *LONG_RUN, log=log)
    try:
        cli.wait_for(lambda: (cli.checkpoint_state(run_dir) or {}).get("epoch", 0) >= 1
                     or proc.poll() is not None, timeout=cli.TIMEOUT, what="a first checkpoint")
        proc.send_signal(signum)
        proc.wait(timeout=cli.TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, log.read_text()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_says_how_to_continue_and_continues(tmp_path, signum):
    run_dir = tmp_path / "run"
    code, output = stop_midway(run_dir, signum, tmp_path / "log")
    assert code == 128 + signum, output  # 130, 143: what a shell reports
    assert "Traceback" not in output, output
    last = output.strip().splitlines()[-1]
    match = STOPPED.match(last)
    assert match, output
    epoch = int(match[1])
    assert 1 <= epoch < 8 and cli.checkpoint_state(run_dir)["epoch"] == epoch
    command = shlex.split(match[2])
    assert command[:3] == [sys.executable, "-m", "constrained_zoo.training.train"] and command[-1] == "--resume"
    assert "stopped after epoch" in (run_dir / "train.log").read_text()
    if signum == signal.SIGINT:
        return
    # The printed command continues the run (here with XLA and without determinism:
    # applied, and recorded as what changed from which epoch).
    done = subprocess.run(command + ["--jit-compile", "true", "--no-deterministic"], cwd=cli.REPO, env=cli.ENV,
                          capture_output=True, text=True, timeout=cli.TIMEOUT)
    cli.check(done)
    assert [row["epoch"] for row in cli.read_history(run_dir)] == list(range(1, 9))
    config = strict_json(run_dir / "config.json")
    assert config["args"]["jit_compile"] is True and config["args"]["deterministic"] is False
    assert config["changes"] == [{"from_epoch": epoch + 1,
                                  "settings": {"jit_compile": [False, True], "deterministic": [True, False]}}]
    assert "resuming with jit_compile True (the run so far used False)" in done.stdout


# ------------------------------------------------------------ multi-worker
@pytest.mark.parametrize("cluster, writers", [
    ({"worker": ["a:1", "b:1", "c:1"]}, [("worker", 0)]),
    ({"chief": ["a:1"], "worker": ["b:1", "c:1"]}, [("chief", 0)]),
    ({"chief": ["a:1"], "worker": ["b:1"], "evaluator": ["c:1"]}, [("chief", 0)]),
])
def test_exactly_one_writer_whatever_the_cluster(cluster, writers):
    from constrained_zoo.training.run.distribute import is_writer

    tasks = [(kind, index) for kind, hosts in cluster.items() for index in range(len(hosts))]
    found = [task for task in tasks
             if is_writer({"cluster": cluster, "task": {"type": task[0], "index": task[1]}})]
    assert found == writers


def test_datasets_are_sharded_by_data_explicitly():
    import tensorflow as tf

    from constrained_zoo.training.run.distribute import shard_by_data

    dataset = shard_by_data(tf.data.Dataset.range(4).batch(2))
    assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert shard_by_data(None) is None


# ------------------------------------------------------------ determinism on GPUs
def test_an_op_without_a_deterministic_kernel_names_the_flag():
    """What TensorFlow raises on a GPU (none here): a one-line UsageError naming --no-deterministic."""
    import tensorflow as tf

    error = tf.errors.UnimplementedError(
        None, None, "A deterministic GPU implementation of SparseSoftmaxXentWithLogits is not currently available.")
    from constrained_zoo.training.run import fit, rundir

    with pytest.raises(rundir.UsageError, match=r"Pass --no-deterministic to allow non-deterministic ops"):
        with fit.determinism_explained({"deterministic": True}):
            raise error
    with pytest.raises(tf.errors.UnimplementedError):  # without determinism asked for: the error itself
        with fit.determinism_explained({"deterministic": False}):
            raise error
    with pytest.raises(tf.errors.InvalidArgumentError):  # other errors pass through
        with fit.determinism_explained({"deterministic": True}):
            raise tf.errors.InvalidArgumentError(None, None, "logits and labels must have the same shape")

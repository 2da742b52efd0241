"""The training CLI, end to end: `python -m constrained_zoo.training.train` and `training.evaluate`.

Training runs in subprocesses, as a user runs it, on scikit-learn's 8×8
digits with the zoo's smallest models (a one-epoch run costs ~7 s of CPU,
most of it starting TensorFlow). Resuming is tested with real SIGKILLs, and
multi-worker training with two worker processes on 127.0.0.1. The errors a
user can make are tested in-process through `train.main` (same code path,
same exit code, no TensorFlow start-up each), one of them from the shell.
"""

import csv
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

from tests.training import cli
from constrained_zoo.training import train as train_module
from constrained_zoo.training.data import load_dataset

pytestmark = pytest.mark.tensorflow_only

# The one-epoch run: a model of constrained layers (MultiChannelConv) on 8×8 digits.
ONE_EPOCH = ("--model", "cnn_small", "--dataset", "digits", "--epochs", 1, "--seed", 1)
# The resume runs: 12 short epochs (~0.2 s each) with augmentation, so that a
# kill lands mid-run and the augmentation's (seed, epoch) streams are covered.
RESUME_EPOCHS = 12
RESUME = ("--model", "mlp_small", "--dataset", "digits", "--batch-size", 32, "--augment",
          "--epochs", RESUME_EPOCHS)
FIRST_EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+)$", re.MULTILINE)


def digits_test_set(batch_size=128):
    splits, _ = load_dataset("digits", batch_size=batch_size)
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in splits.test))
    return np.concatenate(xs), np.concatenate(ys)  # (360, 8, 8, 1), (360,)


def assert_finished_run(run_dir, replicas=1):
    """The files every finished run has, and evaluate's agreement with them."""
    from constrained_zoo.training.evaluate import evaluate_saved_model

    for name in ("config.json", "results.json", "history.csv", "model.keras", "saved_model", "checkpoints"):
        assert os.path.exists(os.path.join(run_dir, name)), name
    config, results = cli.read_json(run_dir / "config.json"), cli.read_json(run_dir / "results.json")
    assert config["strategy"]["replicas"] == replicas
    accuracy, total = evaluate_saved_model(str(run_dir))
    assert total == 360
    assert abs(accuracy - results["test_accuracy"]) <= 0.5 / total
    return config, results


# ------------------------------------------------------------ one epoch
@pytest.fixture(scope="module")
def one_epoch_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("one_epoch") / "run"
    done = cli.check(cli.train(run_dir, *ONE_EPOCH))
    return run_dir, done


def test_one_epoch_run_writes_every_file(one_epoch_run):
    import keras
    import tensorflow as tf

    import constrained_layers
    from constrained_zoo import models

    run_dir, done = one_epoch_run
    assert sorted(os.listdir(run_dir)) == [
        "checkpoints", "config.json", "history.csv", "model.keras", "results.json", "saved_model", "tensorboard",
        "train.log",
    ]
    assert "test accuracy" in done.stdout and "Traceback" not in done.stderr
    log = (run_dir / "train.log").read_text()  # everything it printed, after the command it ran
    assert log.startswith("# ") and "--model cnn_small" in log.splitlines()[0]
    assert [line for line in done.stdout.splitlines() if "test accuracy" in line][0] in log

    config = cli.read_json(run_dir / "config.json")
    every_setting = set(vars(train_module.build_parser().parse_args(["--model", "m"]))) - {"resume", "overwrite", "verbose"}
    assert set(config["args"]) == every_setting
    assert config["git"]["commit"] == subprocess.run(["git", "rev-parse", "HEAD"], cwd=cli.REPO, capture_output=True,
                                                     text=True, check=True).stdout.strip()
    assert isinstance(config["git"]["dirty"], bool)
    assert config["args"]["model"] == "cnn_small" and config["args"]["seed"] == 1 and config["args"]["epochs"] == 1
    assert config["versions"] == {
        "python": config["versions"]["python"], "tensorflow": tf.__version__, "keras": keras.__version__,
        "keras_backend": "tensorflow", "numpy": np.__version__, "constrained_layers": constrained_layers.__version__,
    }
    assert config["data"]["input_shape"] == [8, 8, 1] and config["data"]["num_train"] == 1293
    assert config["strategy"] == {"name": "default", "replicas": 1}

    model = models.create_model("cnn_small", input_shape=(8, 8, 1), num_classes=10)
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    results = cli.read_json(run_dir / "results.json")
    assert {k: results[k] for k in ("model", "dataset", "trainable_params", "epochs", "seed", "num_train")} == {
        "model": "cnn_small", "dataset": "digits", "trainable_params": trainable, "epochs": 1, "seed": 1,
        "num_train": 1293,
    }
    assert 0 <= results["test_accuracy"] <= 1 and 0 < results["test_loss"] < 10
    assert results["wall_time_seconds"] > 0
    assert results["train_examples_per_second"] == pytest.approx(1293 / results["wall_time_seconds"], rel=0.01)

    history = cli.read_history(run_dir)
    assert [row["epoch"] for row in history] == [1]
    assert set(history[0]) == {"epoch", "accuracy", "loss", "val_accuracy", "val_loss"}
    state = cli.checkpoint_state(run_dir)
    assert state["epoch"] == 1 and state["file"] == "epoch-0001.keras"
    assert history[0]["loss"] == state["history"][0]["loss"]

    for split in ("train", "validation"):  # TensorBoard's event files, with the epoch's loss
        events = [f for f in os.listdir(run_dir / "tensorboard" / split) if f.startswith("events.out.tfevents")]
        assert events, split
        tags = {v.tag for f in events
                for record in tf.data.TFRecordDataset(str(run_dir / "tensorboard" / split / f))
                for v in tf.compat.v1.Event.FromString(record.numpy()).summary.value}
        assert "epoch_loss" in tags, (split, tags)

    # model.keras and the SavedModel compute the same logits.
    x_test, y_test = digits_test_set()
    restored = keras.saving.load_model(run_dir / "model.keras")
    served = tf.saved_model.load(str(run_dir / "saved_model"))
    assert "serve" in served.signatures
    logits = served.serve(tf.constant(x_test)).numpy()  # (360, 10)
    np.testing.assert_allclose(logits, restored.predict(x_test, verbose=0), atol=1e-5)
    assert np.mean(np.argmax(logits, -1) == y_test) == pytest.approx(results["test_accuracy"], abs=1e-6)


SERVE_ALONE = """
import json, sys
import numpy as np
import tensorflow as tf

def project():  # this project's modules imported so far
    return sorted(m for m in sys.modules if m.split(".")[0] in ("constrained_layers", "constrained_zoo", "models",
                                                                 "training"))

served = tf.saved_model.load(sys.argv[1])
x = tf.constant(np.load(sys.argv[2]))
np.save(sys.argv[3], served.signatures["serve"](inputs=x)["output_0"].numpy())
np.save(sys.argv[4], served.serve(x).numpy())
print(json.dumps(project()))

from constrained_zoo.training import evaluate
code = evaluate.main([sys.argv[5]])  # what `python -m constrained_zoo.training.evaluate RUN_DIR` runs
print(json.dumps([m for m in project() if m.split(".")[0] in ("constrained_layers", "models")
                  or m.startswith("constrained_zoo.models")]))
sys.exit(code)
"""


def test_saved_model_serves_without_the_project(one_epoch_run, tmp_path):
    """A server needs TensorFlow alone; `training.evaluate` reproduces results.json's accuracy so.

    In a fresh process: the SavedModel, copied away from the run, loaded with
    `tf.saved_model.load` imports none of constrained_layers, models and
    training; `training.evaluate` (which imports training's data pipeline)
    imports neither constrained_layers nor models, and exits 0.
    """
    run_dir, _ = one_epoch_run
    saved_model = tmp_path / "elsewhere" / "saved_model"
    shutil.copytree(run_dir / "saved_model", saved_model)
    x_test, y_test = digits_test_set()
    np.save(tmp_path / "x.npy", x_test)
    done = cli.check(cli.python(SERVE_ALONE, saved_model, tmp_path / "x.npy", tmp_path / "signature.npy",
                                tmp_path / "serve.npy", run_dir, cwd=tmp_path))
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "[]" and lines[-1] == "[]", lines
    by_signature, by_serve = np.load(tmp_path / "signature.npy"), np.load(tmp_path / "serve.npy")
    np.testing.assert_array_equal(by_signature, by_serve)
    accuracy = cli.read_json(run_dir / "results.json")["test_accuracy"]
    assert np.mean(np.argmax(by_serve, -1) == y_test) == pytest.approx(accuracy, abs=1e-6)
    assert f"SavedModel test accuracy {accuracy:.4f} on 360 examples" in done.stdout
    assert ": match" in done.stdout


def test_resume_of_a_run_killed_after_its_last_checkpoint_only_exports(one_epoch_run, tmp_path):
    """Killed between the last checkpoint and results.json: --resume evaluates and exports."""
    run_dir, _ = one_epoch_run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    for name in ("results.json", "history.csv", "model.keras"):
        os.remove(copy / name)
    shutil.rmtree(copy / "saved_model")
    done = cli.check(cli.train(copy, *ONE_EPOCH, "--resume"))
    assert not FIRST_EPOCH_LINE.search(done.stdout), "it trained again"
    before, after = cli.read_json(run_dir / "results.json"), cli.read_json(copy / "results.json")
    assert after["test_accuracy"] == before["test_accuracy"] and after["test_loss"] == before["test_loss"]
    assert cli.read_history(copy) == cli.read_history(run_dir)
    assert os.path.isdir(copy / "saved_model") and os.path.isfile(copy / "model.keras")
    # Now finished: another --resume with the same --epochs has nothing to do.
    assert train_module.main(["--out", str(copy), *map(str, ONE_EPOCH), "--resume", "--no-deterministic"]) == 2


# ------------------------------------------------------------ resume after SIGKILL
@pytest.fixture(scope="module")
def uninterrupted_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("uninterrupted") / "run"
    cli.check(cli.train(run_dir, *RESUME))
    return run_dir


def kill_when(proc, condition, timeout=120):
    """SIGKILLs `proc` as soon as `condition()` holds; fails if it ended before."""
    try:
        cli.wait_for(lambda: condition() or proc.poll() is not None, timeout, what="the kill condition")
    finally:
        alive = proc.poll() is None
        proc.kill()
        proc.wait(timeout=30)
    assert alive, f"the run ended (exit code {proc.returncode}) before it could be killed"
    assert proc.returncode == -signal.SIGKILL


def assert_same_run(resumed, uninterrupted):
    """Same seed, same result: every epoch's logs and the test numbers, exactly."""
    assert cli.read_history(resumed) == cli.read_history(uninterrupted)
    a, b = cli.read_json(resumed / "results.json"), cli.read_json(uninterrupted / "results.json")
    assert a["test_accuracy"] == b["test_accuracy"]
    assert abs(a["test_loss"] - b["test_loss"]) <= 1e-6
    assert a["epochs"] == b["epochs"] == RESUME_EPOCHS


def test_resume_after_sigkill_continues_where_it_stopped(uninterrupted_run, tmp_path):
    run_dir = tmp_path / "run"
    proc = cli.start_train(run_dir, *RESUME, log=tmp_path / "killed.log")
    kill_when(proc, lambda: (cli.checkpoint_state(run_dir) or {}).get("epoch", 0) >= 2)
    assert not os.path.exists(run_dir / "results.json")
    done_epochs = cli.checkpoint_state(run_dir)["epoch"]
    assert 2 <= done_epochs < RESUME_EPOCHS

    done = cli.check(cli.train(run_dir, *RESUME, "--resume"))
    first = FIRST_EPOCH_LINE.search(done.stdout)
    assert first and int(first.group(1)) == done_epochs + 1 > 1, done.stdout  # not from epoch 0
    assert int(first.group(2)) == RESUME_EPOCHS
    history = cli.read_history(run_dir)
    assert [row["epoch"] for row in history] == list(range(1, RESUME_EPOCHS + 1))  # each epoch once
    state = cli.checkpoint_state(run_dir)
    assert state["epoch"] == RESUME_EPOCHS and len(state["history"]) == RESUME_EPOCHS
    assert_same_run(run_dir, uninterrupted_run)
    assert sorted(os.listdir(run_dir / "checkpoints")) == ["checkpoint.json", f"epoch-{RESUME_EPOCHS:04d}.keras"]


def test_kills_at_random_instants_leave_a_loadable_checkpoint(uninterrupted_run, tmp_path):
    """Three SIGKILLs at random points of an epoch (checkpoint writes included), then --resume."""
    import keras

    from constrained_zoo import models  # noqa: F401  (registers the zoo's layers for load_model)

    run_dir = tmp_path / "run"
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    for kill in range(3):
        state = cli.checkpoint_state(run_dir)
        reached = state["epoch"] if state else 0
        resume = ("--resume",) if kill else ()
        proc = cli.start_train(run_dir, *RESUME, *resume, log=tmp_path / f"kill{kill}.log")
        # Once this process has completed an epoch, kill at a random instant
        # within about the next epoch and a half.
        delay = rng.uniform(0, 0.3)

        def progressed_then_waited():
            if (cli.checkpoint_state(run_dir) or {}).get("epoch", 0) <= reached:
                return False
            time.sleep(delay)
            return True

        kill_when(proc, progressed_then_waited)
        state = cli.checkpoint_state(run_dir)
        assert state is not None, f"seed {seed}, kill {kill}"
        assert len(state["history"]) == state["epoch"] > reached, f"seed {seed}, kill {kill}"
        assert [h["epoch"] for h in state["history"]] == list(range(1, state["epoch"] + 1))
        model = keras.saving.load_model(run_dir / "checkpoints" / state["file"])  # complete and loadable
        assert model.optimizer.iterations.numpy() == state["epoch"] * math.ceil(1293 / 32), f"seed {seed}"
    done = cli.check(cli.train(run_dir, *RESUME, "--resume"))
    assert int(FIRST_EPOCH_LINE.search(done.stdout).group(1)) == state["epoch"] + 1
    assert_same_run(run_dir, uninterrupted_run)
    # What the kills left (half-written temporaries, a superseded checkpoint) is gone.
    assert sorted(os.listdir(run_dir / "checkpoints")) == ["checkpoint.json", f"epoch-{RESUME_EPOCHS:04d}.keras"]
    assert not [name for name in os.listdir(run_dir) if ".tmp" in name]


def test_resume_removes_what_a_kill_left_and_no_more(tmp_path):
    """Unit test of what `AtomicCheckpoint` clears when it continues a state."""
    from constrained_zoo.atomic import write_json
    from constrained_zoo.training.run.checkpoints import AtomicCheckpoint, load_state

    directory = tmp_path / "checkpoints"
    directory.mkdir()
    names = ["epoch-0002.keras", "epoch-0003.keras", ".epoch-0004.keras.k2j4.tmp.keras", "notes.txt"]
    for name in names:
        (directory / name).write_text("")
    write_json(directory / "checkpoint.json", {"epoch": 3, "file": "epoch-0003.keras", "history": [], "train_seconds": 1.0})
    state = load_state(directory)
    assert state["path"] == str(directory / "epoch-0003.keras")
    AtomicCheckpoint(str(directory), state, write=False)  # a non-chief worker's: touches nothing
    assert sorted(os.listdir(directory)) == sorted(names + ["checkpoint.json"])
    AtomicCheckpoint(str(directory), state)
    assert sorted(os.listdir(directory)) == ["checkpoint.json", "epoch-0003.keras", "notes.txt"]
    os.remove(directory / "epoch-0003.keras")
    with pytest.raises(FileNotFoundError, match="modified by hand"):
        load_state(directory)


# ------------------------------------------------------------ strategies and precision
def test_mirrored_strategy_over_two_logical_cpus(tmp_path):
    run_dir = tmp_path / "run"
    cli.check(cli.train(run_dir, "--model", "mlp_small", "--dataset", "digits", "--epochs", 1,
                        "--strategy", "mirrored", "--logical-cpus", 2))
    config, _ = assert_finished_run(run_dir, replicas=2)
    assert config["strategy"] == {"name": "mirrored", "replicas": 2}


def test_multiworker_strategy_with_two_local_workers(tmp_path):
    run_dir = tmp_path / "run"
    ports = cli.free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    procs = [
        cli.start_train(
            run_dir, "--model", "mlp_small", "--dataset", "digits", "--epochs", 2, "--strategy", "multiworker",
            log=tmp_path / f"worker{index}.log",
            env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})},
        )
        for index in range(2)
    ]
    deadline = time.monotonic() + 240  # ~20 s on 2 idle cores; a worker whose peer died waits forever
    try:
        for proc in procs:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    logs = [(tmp_path / f"worker{index}.log").read_text() for index in range(2)]
    for index, (proc, log) in enumerate(zip(procs, logs)):
        assert proc.returncode == 0, f"worker {index}: exit code {proc.returncode}\n{cli.tail(log)}"
    config, results = assert_finished_run(run_dir, replicas=2)
    assert config["strategy"] == {"name": "multiworker", "replicas": 2}
    assert "wrote" in logs[0] and "wrote" not in logs[1]  # the chief alone writes
    assert sorted(os.listdir(run_dir)) == [
        "checkpoints", "config.json", "history.csv", "model.keras", "results.json", "saved_model", "tensorboard",
        "train.log",
    ]
    assert [row["epoch"] for row in cli.read_history(run_dir)] == [1, 2]


def test_mixed_bfloat16_on_cpu(tmp_path):
    run_dir = tmp_path / "run"
    cli.check(cli.train(run_dir, "--model", "cnn_small", "--dataset", "digits", "--epochs", 1,
                        "--mixed-precision", "mixed_bfloat16"))
    config, results = assert_finished_run(run_dir)
    assert config["args"]["mixed_precision"] == "mixed_bfloat16"
    assert math.isfinite(results["test_loss"])


# ------------------------------------------------------------ errors and help
def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_module.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    text = " ".join(out.split())
    options = [" ".join(o.split()) for o in re.split(r"\n(?=  -)", out.split("options:")[1])]  # one per option
    for action in train_module.build_parser()._actions:
        if action.dest in ("model", "help"):  # required; --help
            continue
        flag = action.option_strings[0]
        [block] = [o for o in options if o.startswith(flag + " ")]
        assert "(default: " in block, block
    assert "--epochs EPOCHS epochs in all (a resumed run goes on to this) (default: 10)" in text
    assert "(default: 128)" in text and "(default: fashion_mnist)" in text


def run_main(argv, capsys):
    """`train.main(argv)`'s exit code and stderr."""
    code = train_module.main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


def test_unknown_model_lists_near_matches(tmp_path, capsys):
    code, err = run_main(["--model", "mlp_smal", "--dataset", "digits", "--out", tmp_path / "r"], capsys)
    assert code == 2
    assert err.startswith("error: Unknown model") and "Did you mean 'mlp_small'" in err


def test_unknown_dataset_lists_the_names(tmp_path, capsys):
    code, err = run_main(["--model", "mlp_small", "--dataset", "digitz", "--no-deterministic",
                          "--out", tmp_path / "r"], capsys)
    assert code == 2
    assert err.startswith("error: Unknown dataset") and "['digits', 'fashion_mnist', 'mnist1d']" in err


def test_unwritable_out(tmp_path, capsys):
    (tmp_path / "file").write_text("not a directory")
    code, err = run_main(["--model", "mlp_small", "--dataset", "digits", "--out", tmp_path / "file" / "run"], capsys)
    assert code == 2
    assert "is not writable" in err and "Not a directory" in err
    code, err = run_main(["--model", "mlp_small", "--dataset", "digits", "--out", tmp_path / "file"], capsys)
    assert code == 2 and "exists and is not a directory" in err


@pytest.fixture
def existing_run(one_epoch_run, tmp_path):
    """A directory holding a run's config.json (a copy: these tests must not touch the real one)."""
    run_dir = tmp_path / "existing"
    run_dir.mkdir()
    shutil.copy(one_epoch_run[0] / "config.json", run_dir)
    return run_dir


def test_out_holding_a_run_needs_resume_or_overwrite(existing_run, capsys):
    code, err = run_main([*ONE_EPOCH, "--out", existing_run], capsys)
    assert code == 2
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err


def test_resume_with_changed_settings(existing_run, capsys):
    argv = ["--model", "cnn_small", "--dataset", "digits", "--epochs", 1, "--seed", 2, "--batch-size", 64]
    code, err = run_main([*argv, "--out", existing_run, "--resume"], capsys)
    assert code == 2
    assert "--resume must keep the settings" in err and "seed: 1 -> 2" in err and "batch_size: 128 -> 64" in err


def test_resume_of_a_config_from_before_lr_schedule_means_constant(existing_run, capsys):
    config = cli.read_json(existing_run / "config.json")
    del config["args"]["lr_schedule"]
    (existing_run / "config.json").write_text(json.dumps(config))
    argv = ["--model", "cnn_small", "--dataset", "digits", "--epochs", 1, "--seed", 2]
    code, err = run_main([*argv, "--out", existing_run, "--resume"], capsys)
    assert code == 2 and "seed: 1 -> 2" in err and "lr_schedule" not in err
    code, err = run_main([*argv, "--lr-schedule", "cosine", "--out", existing_run, "--resume"], capsys)
    assert code == 2 and "lr_schedule: 'constant' -> 'cosine'" in err


def test_resume_of_a_cosine_run_keeps_its_epochs(existing_run, capsys):
    config = cli.read_json(existing_run / "config.json")
    config["args"]["lr_schedule"] = "cosine"
    (existing_run / "config.json").write_text(json.dumps(config))
    argv = ["--model", "cnn_small", "--dataset", "digits", "--seed", 1, "--lr-schedule", "cosine"]
    code, err = run_main([*argv, "--epochs", 3, "--out", existing_run, "--resume"], capsys)
    assert code == 2
    assert "--lr-schedule cosine decays over the run's --epochs (1)" in err and "got --epochs 3" in err


def test_cosine_schedule_decays_to_zero_over_the_run(tmp_path):
    import keras

    out = tmp_path / "cosine"
    cli.check(cli.train(out, "--model", "mlp_small", "--dataset", "digits", "--epochs", 2, "--lr-schedule", "cosine",
                "--learning-rate", "0.01", "--verbose", 0))
    assert cli.read_json(out / "config.json")["args"]["lr_schedule"] == "cosine"
    optimizer = keras.saving.load_model(out / "model.keras").optimizer
    schedule = optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.initial_learning_rate == pytest.approx(0.01)
    steps = int(optimizer.iterations.numpy())
    assert steps == schedule.decay_steps > 0  # decays over exactly the steps of --epochs
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # and ends at 0


def test_resume_with_overwrite(existing_run, capsys):
    code, err = run_main([*ONE_EPOCH, "--out", existing_run, "--resume", "--overwrite"], capsys)
    assert code == 2 and "contradict" in err
    assert os.listdir(existing_run) == ["config.json"]


def test_sequence_model_on_an_image_dataset(tmp_path, capsys):
    code, err = run_main(["--model", "mlp_1d_small", "--dataset", "digits", "--no-deterministic",
                          "--out", tmp_path / "r"], capsys)
    assert code == 2
    assert "takes sequences" in err and "(8, 8, 1)" in err and "list_models(rank=2)" in err


def test_multiworker_without_tf_config(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code, err = run_main(["--model", "mlp_small", "--dataset", "digits", "--strategy", "multiworker",
                          "--out", tmp_path / "r"], capsys)
    assert code == 2 and "needs TF_CONFIG" in err


def test_errors_exit_2_without_traceback_from_the_shell(tmp_path):
    done = cli.check(cli.train(tmp_path / "r", "--model", "no_such_model", "--dataset", "digits"), returncode=2)
    assert done.stderr.strip().splitlines()[-1].startswith("error: Unknown model")
    assert "Traceback" not in done.stderr


# ------------------------------------------------------- recipe settings
RECIPE = ("--model", "mlp_small", "--dataset", "digits", "--batch-size", 64, "--flip", "--augment",
          "--label-smoothing", "0.1", "--weight-decay", "0.05", "--verbose", 0)


def test_label_smoothing_weight_decay_and_flip_resume_exactly(tmp_path):
    import keras

    from constrained_zoo.training.run.losses import SmoothedSparseCategoricalCrossentropy

    whole, split = tmp_path / "whole", tmp_path / "split"
    cli.check(cli.train(whole, *RECIPE, "--epochs", 2))
    cli.check(cli.train(split, *RECIPE, "--epochs", 1))
    cli.check(cli.train(split, *RECIPE, "--epochs", 2, "--resume"))  # the loss and AdamW come back from the checkpoint
    assert cli.read_history(split) == cli.read_history(whole)
    args = cli.read_json(whole / "config.json")["args"]
    assert (args["flip"], args["label_smoothing"], args["weight_decay"]) == (True, 0.1, 0.05)
    model = keras.saving.load_model(whole / "model.keras")
    assert isinstance(model.optimizer, keras.optimizers.AdamW) and model.optimizer.weight_decay == pytest.approx(0.05)
    assert isinstance(model.loss, SmoothedSparseCategoricalCrossentropy) and model.loss.label_smoothing == 0.1


def test_smoothed_loss_equals_the_equation():
    from constrained_zoo.training.run.losses import SmoothedSparseCategoricalCrossentropy, classification_loss

    rng = np.random.default_rng(0)
    logits, labels, s = rng.normal(size=(6, 4)).astype(np.float32), np.array([0, 1, 2, 3, 1, 0]), 0.2
    targets = (1 - s) * np.eye(4)[labels] + s / 4
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -(targets * log_softmax).sum(-1).mean()
    loss = SmoothedSparseCategoricalCrossentropy(s)
    assert float(loss(labels, logits)) == pytest.approx(expected, rel=1e-5)
    assert float(loss(labels[:, None], logits)) == pytest.approx(expected, rel=1e-5)  # (B, 1) labels too
    plain = classification_loss(0.0)
    unsmoothed = -log_softmax[np.arange(6), labels].mean()
    assert float(plain(labels, logits)) == pytest.approx(unsmoothed, rel=1e-5)
    with pytest.raises(ValueError, match=r"label_smoothing=1\.0"):
        SmoothedSparseCategoricalCrossentropy(1.0)


@pytest.mark.parametrize("flag, value, message", [
    ("--label-smoothing", "1", "expected a number in [0, 1), got 1"),
    ("--weight-decay", "-0.1", "expected a number >= 0, got -0.1"),
])
def test_recipe_settings_out_of_range_are_refused(flag, value, message, capsys):
    with pytest.raises(SystemExit):
        train_module.build_parser().parse_args(["--model", "mlp_small", flag, value])
    assert message in capsys.readouterr().err


def test_resume_of_a_config_from_before_flip_means_none(existing_run, capsys):
    config = cli.read_json(existing_run / "config.json")
    for key in ("flip", "label_smoothing", "weight_decay"):
        config["args"].pop(key, None)
    (existing_run / "config.json").write_text(json.dumps(config))
    argv = ["--model", "cnn_small", "--dataset", "digits", "--epochs", 1, "--seed", 2]
    code, err = run_main([*argv, "--out", existing_run, "--resume"], capsys)
    assert code == 2 and "seed: 1 -> 2" in err and "flip" not in err and "smoothing" not in err
    code, err = run_main([*argv, "--flip", "--weight-decay", "0.01", "--out", existing_run, "--resume"], capsys)
    assert code == 2 and "flip: False -> True" in err and "weight_decay: 0.0 -> 0.01" in err


# ------------------------------------------------------------ sparse validation
def test_sparse_validation_trains_the_same_model(uninterrupted_run, tmp_path):
    """--validation-points 3 validates epochs 4, 8 and 12 of 12 and changes nothing else, to the last bit."""
    run_dir = tmp_path / "run"
    cli.check(cli.train(run_dir, *RESUME, "--validation-points", 3))
    with open(run_dir / "history.csv", encoding="utf-8") as f:
        sparse = list(csv.DictReader(f))
    every = cli.read_history(uninterrupted_run)
    assert [int(row["epoch"]) for row in sparse] == [row["epoch"] for row in every]
    for row, full in zip(sparse, every):
        assert float(row["loss"]) == full["loss"] and float(row["accuracy"]) == full["accuracy"]  # the training
        validated = int(row["epoch"]) in (4, 8, 12)
        assert bool(row["val_accuracy"]) == validated, row
        if validated:
            assert float(row["val_accuracy"]) == full["val_accuracy"]
    a, b = cli.read_json(run_dir / "results.json"), cli.read_json(uninterrupted_run / "results.json")
    assert a["test_accuracy"] == b["test_accuracy"] and a["test_loss"] == b["test_loss"]
    assert a["final_val_accuracy"] == b["final_val_accuracy"]  # the last epoch is always validated
    assert a["best_val_accuracy"] == max(float(r["val_accuracy"]) for r in sparse if r["val_accuracy"])
    assert cli.read_json(run_dir / "config.json")["args"]["validation_points"] == 3


# ------------------------------------------------------------ checkpoints every few seconds
def test_checkpoints_every_few_seconds_train_the_same_model(uninterrupted_run, tmp_path):
    """--checkpoint-seconds 3600: no checkpoint but the last epoch's, and the same run to the last bit."""
    run_dir = tmp_path / "run"
    done = cli.check(cli.train(run_dir, *RESUME, "--checkpoint-seconds", 3600))
    assert cli.read_history(run_dir) == cli.read_history(uninterrupted_run)
    assert cli.read_json(run_dir / "results.json")["test_accuracy"] == \
        cli.read_json(uninterrupted_run / "results.json")["test_accuracy"]
    assert sorted(os.listdir(run_dir / "checkpoints")) == ["checkpoint.json", f"epoch-{RESUME_EPOCHS:04d}.keras"]
    assert cli.read_json(run_dir / "config.json")["args"]["checkpoint_seconds"] == 3600
    assert "Epoch 1/12" in done.stdout


@pytest.mark.parametrize("stopped", [True, False], ids=["sigterm", "no-signal"])
def test_a_stop_between_the_checkpoint_and_the_stop_callback_still_saves_the_epoch(tmp_path, stopped):
    """Unit test of the window CI once hit: the SIGTERM lands after `AtomicCheckpoint.on_epoch_end`
    put the epoch off (--checkpoint-seconds) and before the stop callback's; without a signal nothing is saved."""
    import keras
    from constrained_zoo.training.run import signals
    from constrained_zoo.training.run.checkpoints import AtomicCheckpoint, load_state

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    checkpoint = AtomicCheckpoint(str(tmp_path), min_seconds=3600, last_epoch=5)
    stop = signals.stop_callback(checkpoint)
    for callback in (checkpoint, stop):
        callback.set_model(model)
    with signals.stop_on_signals():
        checkpoint.on_epoch_begin(0)
        checkpoint.on_epoch_end(0, {"loss": 1.0})
        assert checkpoint.unsaved == 1 and load_state(str(tmp_path)) is None  # put off: an hour has not passed
        if stopped:
            signal.raise_signal(signal.SIGTERM)
            with pytest.raises(signals.StopRequested):
                stop.on_epoch_end(0)
        else:
            stop.on_epoch_end(0)
    state = load_state(str(tmp_path))
    if stopped:
        assert state["epoch"] == 1 and state["history"] == [{"epoch": 1, "loss": 1.0}]
        assert checkpoint.unsaved == 0 and os.path.exists(state["path"])
    else:
        assert state is None and checkpoint.unsaved == 1


def test_a_sigterm_saves_the_checkpoint_that_checkpoint_seconds_had_put_off(uninterrupted_run, tmp_path):
    """A stop request after epoch E saves epoch E's checkpoint; the resumed run ends as the uninterrupted one."""
    run_dir = tmp_path / "run"
    proc = cli.start_train(run_dir, *RESUME, "--checkpoint-seconds", 3600, log=tmp_path / "stopped.log")
    try:
        cli.wait_for(lambda: (run_dir / "history.csv").exists() and len(cli.read_history(run_dir)) >= 3
                     or proc.poll() is not None, 120, what="three epochs")
        assert cli.checkpoint_state(run_dir) is None  # nothing saved yet: an hour has not passed
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 143
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    stopped = cli.checkpoint_state(run_dir)["epoch"]
    assert 3 <= stopped < RESUME_EPOCHS
    cli.check(cli.train(run_dir, *RESUME, "--resume", "--checkpoint-seconds", 3600))
    assert_same_run(run_dir, uninterrupted_run)

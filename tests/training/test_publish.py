"""Publishing a run's weights (`training.publishing`) and re-checking them (`training.evaluate --weights`).

One tiny run is trained here (1 epoch, 200 examples of `digits`, `cnn_tiny`)
and published into a temporary weights root; nothing is written into the
package. `test_published_weights_reproduce_the_manifest` covers every entry of
the package's manifest too, so each shipped file is re-checked by `make test`.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import keras

from constrained_zoo import models
from constrained_zoo.models import weights as _weights
from tests.training import cli
from constrained_zoo.training import evaluate, settings
from constrained_zoo.training.publishing import publish


def _module(module, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)], cwd=cli.REPO, env={**cli.ENV, **(env or {})},
        capture_output=True, text=True, timeout=cli.TIMEOUT,
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A finished tiny run and the weights root it was published into.

    Made once per test session: pytest-xdist workers share the directory
    above their own temporary roots, and the first to take the lock trains
    and publishes while the others wait for it (the xdist documentation's
    recipe), so the run is trained once however the tests are spread.
    """
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # .../pytest-N/popen-gwK: share pytest-N, this session's
        shared = shared.parent
    base = shared / "tiny-published-run"
    os.makedirs(base, exist_ok=True)
    run_dir, root = base / "runs" / "cnn_tiny" / "seed0", base / "weights"
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "manifest.json").exists():
            cli.check(cli.train(run_dir, "--model", "cnn_tiny", "--dataset", "digits", "--epochs", 1,
                                "--max-train-examples", 200, "--seed", 3, "--verbose", 0, "--overwrite"))
            done = cli.check(_module("constrained_zoo.training.publishing", run_dir, "--dataset", "digits", "--weights-dir", root))
            assert "published cnn_tiny as weights 'digits'" in done.stdout
    return run_dir, root


def test_publish_writes_the_weights_and_a_complete_manifest_entry(published):
    run_dir, root = published
    manifest = cli.read_json(root / "manifest.json")
    assert manifest["format"] == 1 and [(w["model"], w["dataset"]) for w in manifest["weights"]] == [("cnn_tiny", "digits")]
    entry = manifest["weights"][0]
    assert re.fullmatch(r"digits/cnn_tiny-[0-9a-f]{12}\.weights\.h5", entry["file"])  # named by its content
    path = root / entry["file"]
    assert entry["sha256"].startswith(path.name.split("-")[1][:12])
    assert entry["sha256"] == _weights.sha256_of(path) and entry["bytes"] == path.stat().st_size
    results = cli.read_json(run_dir / "results.json")
    assert entry["seed"] == 3 and entry["epochs"] == 1 and entry["overrides"] == {}
    assert entry["test_accuracy"] == entry["test_correct"] / entry["num_test"] and entry["num_test"] == 360
    assert abs(entry["test_accuracy"] - results["test_accuracy"]) <= 0.5 / 360
    assert entry["best_validation_accuracy"] == results["best_val_accuracy"]
    assert entry["validation_accuracy"] == pytest.approx(cli.read_history(run_dir)[-1]["val_accuracy"])
    assert entry["command"] == ("python -m constrained_zoo.training.train --model cnn_tiny --dataset digits --epochs 1 --batch-size 128 "
                                "--learning-rate 0.001 --seed 3 --max-train-examples 200")
    config = cli.read_json(run_dir / "config.json")
    assert entry["commit"] == config["git"]["commit"] and entry["commit_dirty"] == config["git"]["dirty"]
    assert entry["commit_source"].startswith("the run's config.json")  # train recorded it
    assert entry["architecture"] == models.architecture_fingerprint(models.create_model("cnn_tiny", input_shape=(8, 8, 1)))
    assert entry["input_shape"] == [8, 8, 1] and entry["num_classes"] == 10 and entry["trainable_params"] == 666
    assert sorted(os.listdir(root)) == ["digits", "manifest.json"]  # no temporary, no lock file
    assert os.listdir(root / "digits") == [path.name]


def test_published_weights_load_as_the_run_trained_them(published, monkeypatch):
    run_dir, root = published
    monkeypatch.setenv(models.WEIGHTS_DIR_ENV, str(root))
    loaded = models.create_model("cnn_tiny", weights="digits")
    trained = keras.saving.load_model(run_dir / "model.keras", compile=False)
    x = np.random.default_rng(0).random((5, 8, 8, 1), dtype=np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(trained(x)))


def _package_entries():
    return [pytest.param(w["model"], _weights.weights_name(w), None, id=f"{w['model']}-{_weights.weights_name(w)}")
            for w in _weights.published_weights(root=_weights.PACKAGE_WEIGHTS_DIR)]


@pytest.mark.parametrize("name, dataset, root", [*_package_entries(), pytest.param("cnn_tiny", "digits", "tiny", id="tiny-run")])
def test_published_weights_reproduce_the_manifest(name, dataset, root, published):
    """Every shipped weight file (and the tiny run's) gives exactly the manifest's test accuracy."""
    root = published[1] if root == "tiny" else _weights.PACKAGE_WEIGHTS_DIR
    correct, total, entry = evaluate.evaluate_published(name, dataset, weights_dir=root)
    assert (correct, total) == (entry["test_correct"], entry["num_test"])
    assert correct / total == entry["test_accuracy"]


def test_evaluate_cli_checks_the_manifest_exactly(published, tmp_path):
    _, root = published
    done = cli.check(_module("constrained_zoo.training.evaluate", "--model", "cnn_tiny", "--weights", "digits", "--weights-dir", root))
    assert "the manifest says" in done.stdout and ": match." in done.stdout
    # A manifest one answer off: 1, MISMATCH.
    other = tmp_path / "weights"
    os.makedirs(other / "digits")
    manifest = cli.read_json(root / "manifest.json")
    os.link(root / manifest["weights"][0]["file"], other / manifest["weights"][0]["file"])
    manifest["weights"][0]["test_correct"] -= 1
    (other / "manifest.json").write_text(json.dumps(manifest))
    code, message = evaluate.check_published("cnn_tiny", "digits", weights_dir=other)
    assert code == 1 and "MISMATCH" in message
    # Weights never published: 2, the pair named.
    code, message = evaluate.check_published("cnn_small", "digits", weights_dir=root)
    assert code == 2 and "No published weights 'digits' for model 'cnn_small'" in message


def test_evaluate_cli_usage_errors(capsys):
    with pytest.raises(SystemExit) as raised:
        evaluate.main(["--model", "cnn_tiny"])
    assert raised.value.code == 2
    assert "pass RUN_DIR, or both --model and --weights (received --model 'cnn_tiny', --weights None)" in capsys.readouterr().err


def test_publish_refuses_what_it_cannot_publish(published, tmp_path):
    run_dir, _ = published
    with pytest.raises(publish.PublishError, match=r"--dataset 'mnist1d' is not the run's dataset: .* trained on 'digits'"):
        publish.publish(run_dir, dataset="mnist1d", weights_dir=tmp_path)
    with pytest.raises(publish.PublishError, match=r"has no config\.json: is it a finished run"):
        publish.publish(tmp_path, weights_dir=tmp_path)
    # A run whose results.json disagrees with its weights is not published.
    fake = tmp_path / "run"
    os.makedirs(fake)
    for name in ("config.json", "model.keras", "history.csv"):
        os.link(run_dir / name, fake / name)
    results = cli.read_json(run_dir / "results.json")
    (fake / "results.json").write_text(json.dumps({**results, "test_accuracy": results["test_accuracy"] + 0.01}))
    with pytest.raises(publish.PublishError, match=r"give test accuracy .*; its results\.json says .*Not published"):
        publish.publish(fake, weights_dir=tmp_path / "w")
    assert not (tmp_path / "w" / "manifest.json").exists()


def test_train_command_keeps_what_changes_the_result():
    args = {"model": "cnn_small", "dataset": "fashion_mnist", "epochs": 20, "batch_size": 128, "learning_rate": 0.001,
            "lr_schedule": "cosine", "seed": 1, "max_train_examples": None, "validation_fraction": 0.1,
            "augment": True, "pixel_shuffle": False, "shift": 0, "out": "x", "strategy": "default",
            "model_args": {"delta": 2, "padding_mode": "circular"}}
    assert settings.train_command(args) == (
        "python -m constrained_zoo.training.train --model cnn_small --dataset fashion_mnist --epochs 20 --batch-size 128 "
        "--learning-rate 0.001 --lr-schedule cosine --seed 1 --augment --model-arg delta=2 --model-arg padding_mode=circular"
    )


def test_train_command_names_the_regularization_settings():
    args = {"model": "cnn_bn_50k", "dataset": "fashion_mnist", "epochs": 40, "batch_size": 128, "learning_rate": 0.001,
            "lr_schedule": "cosine", "seed": 0, "validation_fraction": 0.1, "augment": True, "flip": True,
            "label_smoothing": 0.1, "weight_decay": 0.05, "model_args": {}}
    assert settings.train_command(args) == (
        "python -m constrained_zoo.training.train --model cnn_bn_50k --dataset fashion_mnist --epochs 40 --batch-size 128 "
        "--learning-rate 0.001 --lr-schedule cosine --seed 0 --augment --flip --label-smoothing 0.1 --weight-decay 0.05"
    )
    args.update(flip=False, label_smoothing=0.0, weight_decay=0.0)  # the defaults are left out
    assert "--flip" not in settings.train_command(args) and "--weight-decay" not in settings.train_command(args)


def test_a_tag_publishes_another_recipe_beside_the_tables(published, tmp_path, monkeypatch):
    """`--tag frontier`: weights name `digits.frontier`, its own file and entry; the untagged one stays."""
    run_dir, root = published
    other = tmp_path / "weights"
    shutil.copytree(root, other)
    entry = publish.publish(run_dir, weights_dir=other, tag="frontier")
    assert entry["tag"] == "frontier"
    assert re.fullmatch(r"digits/cnn_tiny\.frontier-[0-9a-f]{12}\.weights\.h5", entry["file"])
    manifest = cli.read_json(other / "manifest.json")
    assert [_weights.weights_name(w) for w in manifest["weights"]] == ["digits", "digits.frontier"]
    assert [w["model"] for w in _weights.published_weights("digits", root=other)] == ["cnn_tiny"]
    assert [w["tag"] for w in _weights.published_weights("digits.frontier", root=other)] == ["frontier"]
    monkeypatch.setenv(models.WEIGHTS_DIR_ENV, str(other))
    x = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    tagged, plain = (models.create_model("cnn_tiny", weights=w) for w in ("digits.frontier", "digits"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(tagged(x)), keras.ops.convert_to_numpy(plain(x)))
    assert evaluate.check_published("cnn_tiny", "digits.frontier", other)[0] == 0
    with pytest.raises(models.WeightsError, match=r"Unknown weights for argument `weights`: 'digits.nope'.*"
                                                  r"'digits', 'digits.frontier'"):
        models.create_model("cnn_tiny", weights="digits.nope")
    with pytest.raises(publish.PublishError, match=r"--tag must be lowercase .*received 'Front-ier'"):
        publish.publish(run_dir, weights_dir=other, tag="Front-ier")


def test_records_name_the_runs_copy_in_the_repository_as_its_run(published, tmp_path, monkeypatch):
    """`--records`: the manifest's `run` is the copy the repository keeps, once it is checked to be one."""
    from constrained_zoo.training.publishing import harvest, records

    run_dir, _ = published
    copy = tmp_path / "repo" / "results" / "digits" / "runs" / "cnn_tiny" / "seed0"
    harvest.copy_records(run_dir, copy)
    assert records.differences(run_dir, copy) == []
    monkeypatch.setattr(publish, "REPO", str(tmp_path / "repo"))  # the copy lies inside the repository
    entry = publish.publish(run_dir, weights_dir=tmp_path / "w", records=copy)
    assert entry["run"] == os.path.join("results", "digits", "runs", "cnn_tiny", "seed0")
    assert records.disagreements(entry, copy) == []
    # A copy that is not one is refused, naming the argument and the file, before anything is written.
    history = (copy / "history.csv").read_text()
    (copy / "history.csv").write_text(history + "\n")
    with pytest.raises(publish.PublishError, match=r"--records '.*seed0' is not a copy of .*: history\.csv \(different\)"):
        publish.publish(run_dir, weights_dir=tmp_path / "w2", records=copy)
    os.remove(copy / "results.json")
    with pytest.raises(publish.PublishError, match=r"results\.json \(missing in the records\)"):
        publish.publish(run_dir, weights_dir=tmp_path / "w2", records=copy)
    assert not (tmp_path / "w2").exists()


def test_disagreements_name_what_a_manifest_entry_and_its_records_disagree_on(published, tmp_path):
    from constrained_zoo.training.publishing import records

    run_dir, root = published
    [entry] = cli.read_json(root / "manifest.json")["weights"]
    assert records.disagreements(entry, run_dir) == []
    off = {**entry, "seed": 7, "commit": "0" * 40, "test_accuracy": entry["test_accuracy"] + 1 / entry["num_test"]}
    found = records.disagreements(off, run_dir)
    assert [f.split(":")[0] for f in found] == ["seed", "commit", "test accuracy"]
    assert records.disagreements(entry, tmp_path) == [f"{str(tmp_path)!r} holds no readable config.json and results.json"]


@pytest.mark.parametrize("name, weights", [(w["model"], _weights.weights_name(w))
                                           for w in _weights.published_weights(root=_weights.PACKAGE_WEIGHTS_DIR)])
def test_every_shipped_file_names_its_runs_records_in_the_repository(name, weights):
    """The manifest's `run` of each shipped file is a folder of this repository whose records are that run's."""
    from constrained_zoo.training.publishing import records

    [entry] = [w for w in _weights.published_weights(weights, root=_weights.PACKAGE_WEIGHTS_DIR) if w["model"] == name]
    assert not os.path.isabs(entry["run"]), entry["run"]
    assert records.disagreements(entry, os.path.join(cli.REPO, entry["run"])) == []


def test_harvest_publishes_a_seed_naming_its_records(published, tmp_path, monkeypatch):
    """`harvest --publish-seed 0`: the records copied into the results folder, then the weights published from the sweep."""
    from constrained_zoo.training.publishing import harvest

    run_dir, _ = published
    monkeypatch.setattr(publish, "REPO", str(tmp_path))
    results = tmp_path / "results" / "digits"
    done = harvest.harvest(str(run_dir.parent.parent.parent), str(results), ["cnn_tiny"], publish_seed=0,
                           dataset="digits", weights_dir=tmp_path / "w")
    entry = done["cnn_tiny"]["published"]
    assert done["cnn_tiny"]["seeds"] == ["seed0"] and entry["run"] == os.path.join("results", "digits", "runs", "cnn_tiny", "seed0")
    assert cli.read_json(tmp_path / "w" / "manifest.json")["weights"][0]["run"] == entry["run"]

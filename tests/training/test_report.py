"""Results tables: matched parameter budgets and the test-time shift experiment."""

import shutil

import numpy as np
import pytest

from tests.training import cli
from constrained_zoo.training import report, shift
from constrained_zoo.training.sweeps import results


def _row(model, family, params, test, val):
    return {"model": model, "family": family, "params": params, "trainable_params": params,
            "test_accuracy_mean": test, "best_val_accuracy_mean": val}


def test_matched_budgets_choose_by_validation_never_by_test():
    rows = [
        _row("small", "mlp", 1_000, 0.70, 0.71),
        _row("big_val", "mlp", 9_000, 0.80, 0.90),  # best validation within 10k
        _row("big_test", "mlp", 8_000, 0.95, 0.85),  # best test: must not be chosen
        _row("huge", "mlp", 50_000, 0.99, 0.99),
        _row("conv", "multi_channel_conv", 5_000, 0.91, 0.92),
    ]
    table = results.matched_budgets(rows, [2_000, 10_000, 100_000])
    lines = table.splitlines()
    assert lines[0] == "| budget (weights) | mlp | multi_channel_conv |"
    assert lines[2] == "| ≤ 2,000 | 0.7000 (small, 1,000) | — |"
    assert lines[3] == "| ≤ 10,000 | 0.8000 (big_val, 9,000) | 0.9100 (conv, 5,000) |"
    assert lines[4] == "| ≤ 100,000 | 0.9900 (huge, 50,000) | 0.9100 (conv, 5,000) |"


def test_report_cli_rejects_bad_budgets(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    with pytest.raises(SystemExit) as raised:
        report.main([str(tmp_path), "--budgets", "10k,x"])
    assert raised.value.code == 2
    assert "argument --budgets: expected comma-separated positive parameter counts, got '10k,x'" in capsys.readouterr().err


def test_shift_images_moves_content_and_zero_fills():
    from constrained_zoo.training.data.variants import shift_images

    x = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4, 1) + 1
    shifted = shift_images(x, 2)
    np.testing.assert_array_equal(shifted[:, :, 2:], x[:, :, :2])
    assert not shifted[:, :, :2].any()


def test_parse_shifts_always_includes_zero_and_rejects_negatives():
    assert shift._parse_shifts("4,1,2") == [0, 1, 2, 4]
    with pytest.raises(Exception, match="expected comma-separated pixel counts >= 0"):
        shift._parse_shifts("-1,2")
    with pytest.raises(Exception, match="got 'a'"):
        shift._parse_shifts("a")


def test_shift_experiment_on_a_trained_run(tmp_path, capsys):
    run_dir = tmp_path / "runs" / "cnn_small" / "seed0"
    cli.check(cli.train(run_dir, "--model", "cnn_small", "--dataset", "digits", "--epochs", 2, "--verbose", 0))
    assert shift.main([str(tmp_path), "--shifts", "1,3"]) == 0
    results = cli.read_json(run_dir / "results.json")
    with open(tmp_path / "shift.csv") as f:
        lines = f.read().splitlines()
    assert lines[0] == ",".join(shift.COLUMNS)
    column = {name: i for i, name in enumerate(shift.COLUMNS)}
    by_shift = {int(line.split(",")[column["shift"]]): float(line.split(",")[column["test_accuracy"]]) for line in lines[1:]}
    assert sorted(by_shift) == [0, 1, 3]
    # Shift 0 is the run's own test accuracy, through the SavedModel alone.
    assert by_shift[0] == pytest.approx(results["test_accuracy"], abs=0.5 / 360)
    table = (tmp_path / "shift.md").read_text()
    assert "| cnn_small | multi_channel_conv |" in table and "change at 3 px" in table
    assert (tmp_path / "accuracy_vs_shift.png").stat().st_size > 0

    # The accuracies are kept in the run's shift.json: without the SavedModel
    # (a committed results folder holds no weights) the same tables come back,
    # and a shift never measured is refused, naming the run and the shift.
    stored = cli.read_json(run_dir / "shift.json")["shift_accuracy"]
    assert {int(s): a for s, a in stored.items()} == pytest.approx(by_shift, rel=1e-5)  # the csv keeps 6 digits
    csv_before = (tmp_path / "shift.csv").read_text()
    shutil.rmtree(run_dir / "saved_model")
    capsys.readouterr()
    assert shift.main([str(tmp_path), "--shifts", "3,1"]) == 0
    assert (tmp_path / "shift.csv").read_text() == csv_before
    assert shift.main([str(tmp_path), "--shifts", "2"]) == 2
    err = capsys.readouterr().err
    assert "has no saved_model and no stored accuracy for shifts [2]" in err and "nothing written" in err
    assert (tmp_path / "shift.csv").read_text() == csv_before


def test_shift_experiment_without_runs(tmp_path, capsys):
    assert shift.main([str(tmp_path)]) == 2
    assert "no finished run (a results.json)" in capsys.readouterr().err


# --- grouping by (model, overrides, recipe) -----------------------------------------------------

def _write_run(runs_dir, run, model="cnn_small", seed=0, accuracy=0.9, model_args=None, dirty=False, **args):
    """A finished run as training.train leaves it: results.json and config.json."""
    import json
    import os

    path = runs_dir / run / f"seed{seed}"
    os.makedirs(path)
    config_args = {"model": model, "dataset": "digits", "epochs": 20, "batch_size": 128, "learning_rate": 0.001,
                   "seed": seed, "out": str(path), "data_dir": None, "strategy": "default", **args}
    if model_args is not None:
        config_args["model_args"] = model_args
    git = {"commit": "0123456789ab" * 3 + "0123", "dirty": dirty}
    (path / "config.json").write_text(json.dumps({"args": config_args, "git": git}))
    (path / "results.json").write_text(json.dumps({
        "model": model, "family": "multi_channel_conv", "trainable_params": 9098 if not model_args else 20490,
        "test_accuracy": accuracy, "best_val_accuracy": accuracy, "epochs": 20, "num_train": 1000,
        "wall_time_seconds": 10.0, "seed": seed,
    }))


def test_mean_std_is_the_sample_spread_over_seeds_and_zero_for_one():
    values = [0.9337, 0.9310, 0.9301]
    assert results.spread(values) == pytest.approx(float(np.std(values, ddof=1)))
    assert results.mean_std(values) == f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"
    assert results.spread([0.9]) == 0.0
    assert results.mean_std([0.9]) == "0.9000 ± 0.0000"


def test_runs_of_one_recipe_average_whatever_ran_them(tmp_path):
    runs = tmp_path / "runs"
    _write_run(runs, "cnn_small", seed=0, accuracy=0.90, lr_schedule="constant")  # stated
    _write_run(runs, "cnn_small", seed=1, accuracy=0.92, jit_compile=True, strategy="mirrored",
               steps_per_execution=4, data_dir="/data", model_args={})  # older config: no lr_schedule
    rows = results.summarize(results.collect(runs))
    assert [(r["label"], r["seeds"]) for r in rows] == [("cnn_small", 2)]
    assert rows[0]["test_accuracy_mean"] == pytest.approx(0.91)
    assert results.to_csv(rows).splitlines()[0] == ",".join(results.COLUMNS)


def test_runs_of_different_recipes_are_never_averaged(tmp_path):
    runs = tmp_path / "runs"
    _write_run(runs, "cnn_small", seed=0, accuracy=0.90)
    _write_run(runs, "cnn_small_long", model="cnn_small", seed=0, accuracy=0.95, epochs=40, augment=True)
    rows = results.summarize(results.collect(runs))
    assert sorted((r["label"], r["seeds"], r["test_accuracy_mean"]) for r in rows) == [
        ("cnn_small [recipe 1]", 1, 0.90), ("cnn_small [recipe 2]", 1, 0.95)]
    table = results.to_markdown(rows)
    assert "| cnn_small [recipe 2] ★ |" in table
    assert "Rows of different recipes are never averaged; they differ in:" in table
    assert "- recipe 1: augment=False, epochs=20" in table and "- recipe 2: augment=True, epochs=40" in table
    assert results.to_csv(rows).splitlines()[0].endswith(",label,model_args,recipe")


def test_model_overrides_make_their_own_rows(tmp_path):
    runs = tmp_path / "runs"
    _write_run(runs, "cnn_small", seed=0, accuracy=0.90)
    for seed in (0, 1):
        _write_run(runs, "cnn_small-width2", seed=seed, accuracy=0.93, model_args={"width": 2, "delta": 2})
    rows = results.summarize(results.collect(runs))
    assert [(r["label"], r["seeds"]) for r in rows] == [("cnn_small", 1), ("cnn_small (delta=2, width=2)", 2)]
    assert "| cnn_small (delta=2, width=2) ★ | multi_channel_conv | 20,490 | 0.9300 ± 0.0000 | 2 |" in results.to_markdown(rows)
    assert '"{""delta"": 2, ""width"": 2}"' in results.to_csv(rows)


def test_report_keeps_the_sweeps_title(tmp_path, monkeypatch):
    import json

    _write_run(tmp_path / "runs", "cnn_small")
    titles = []
    monkeypatch.setattr(report, "plot", lambda rows, dataset, path, title=None: titles.append(title))
    report.write_report(tmp_path / "runs", tmp_path, "digits")
    (tmp_path / "recipe.json").write_text(json.dumps({"epochs": 20, "title": "The sweep's own title"}))
    assert report.main([str(tmp_path)]) == 0
    report.write_report(tmp_path / "runs", tmp_path, "digits", title="Given")
    assert titles == [None, "The sweep's own title", "Given"]


def test_committed_results_folders_regenerate_unchanged(tmp_path):
    """The committed tables of every results folder come back byte for byte from its runs.

    Read from git's HEAD (the working tree may hold a sweep in progress); from
    the working tree where there is no git checkout.
    """
    import os
    import subprocess
    import tarfile

    repo = cli.REPO
    source = os.path.join(repo, "results")
    try:
        archive = subprocess.run(["git", "archive", "HEAD", "results"], cwd=repo, capture_output=True, check=True).stdout
        with open(tmp_path / "results.tar", "wb") as f:
            f.write(archive)
        with tarfile.open(tmp_path / "results.tar") as tar:
            tar.extractall(tmp_path / "head", filter="data")
        source = tmp_path / "head" / "results"
    except (OSError, subprocess.CalledProcessError):
        pass
    folders = sorted(d for d in os.listdir(source) if os.path.isdir(os.path.join(source, d, "runs")))
    assert len(folders) >= 4
    for folder in folders:
        out = tmp_path / "out" / folder
        rows = report.write_report(os.path.join(source, folder, "runs"), out, folder)
        assert rows
        for name in ("results.csv", "results.md"):
            with open(os.path.join(source, folder, name), encoding="utf-8") as f:
                assert (out / name).read_text() == f.read(), f"{folder}/{name}"
        if os.path.exists(os.path.join(source, folder, "matched_budgets.md")):
            with open(os.path.join(source, folder, "matched_budgets.md"), encoding="utf-8") as f:
                committed = f.read()
            assert results.matched_budgets(rows, [5_000, 10_000, 15_000, 60_000, 300_000, 1_400_000]) == committed


def test_a_row_with_a_run_from_no_clean_commit_is_marked(tmp_path):
    _write_run(tmp_path, "cnn_small", seed=0, accuracy=0.9)
    _write_run(tmp_path, "cnn_small", seed=1, accuracy=0.8, dirty=True)
    _write_run(tmp_path, "cnn_small-delta2_width2", seed=0, accuracy=0.9, model_args={"delta": 2, "width": 2})
    rows = results.summarize(results.collect(tmp_path))
    assert {r["label"]: r["clean"] for r in rows} == {"cnn_small": False, "cnn_small (delta=2, width=2)": True}
    table = results.to_markdown(rows)
    [plain] = [line for line in table.splitlines() if line.startswith("| cnn_small ") and "delta" not in line]
    [override] = [line for line in table.splitlines() if line.startswith("| cnn_small (delta=2, width=2)")]
    assert "†" in plain.split("|")[1] and "†" not in override.split("|")[1]
    assert results.UNCLEAN_NOTE in table
    budgets = results.matched_budgets(rows, [100_000])
    assert "(cnn_small †," in budgets or "(cnn_small (delta=2, width=2)," in budgets


def test_every_weight_is_counted_batchnorm_statistics_included():
    from constrained_zoo import models

    model = models.create_model("cnn_bn_10k", input_shape=(28, 28, 1), num_classes=10)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    counted = results.weights_of("cnn_bn_10k", {}, [28, 28, 1], 10, trainable)
    assert counted == model.count_params() > trainable
    assert results.count_text({"params": counted, "trainable_params": trainable}) == f"{counted:,} ({trainable:,})"
    assert results.count_text({"params": 5, "trainable_params": 5}) == "5"
    assert results.weights_of("not_a_zoo_model", {}, [28, 28, 1], 10, 123) == 123


def test_compare_pairs_the_change_by_seed_with_its_interval(tmp_path):
    """`report --compare`: each model's change from one folder to the other, seed by seed, Student's t over the seeds."""
    from scipy import stats

    base, variant = tmp_path / "base", tmp_path / "variant"
    pairs = {0: (0.90, 0.60), 1: (0.92, 0.61), 2: (0.91, 0.63)}
    for seed, (a, b) in pairs.items():
        _write_run(base / "runs", "cnn_small", seed=seed, accuracy=a)
        _write_run(variant / "runs", "cnn_small", seed=seed, accuracy=b)
    _write_run(base / "runs", "lc_small", model="lc_small", seed=0, accuracy=0.8)
    _write_run(variant / "runs", "lc_small", model="lc_small", seed=0, accuracy=0.7)
    table = results.compare(str(base), str(variant))
    changes = [100 * (b - a) for a, b in pairs.values()]
    half = stats.t.ppf(0.975, 2) * np.std(changes, ddof=1) / np.sqrt(3)
    low, high = np.mean(changes) - half, np.mean(changes) + half
    assert f"| {np.mean(changes):+.1f} | [{low:+.1f}, {high:+.1f}] (3 seeds) |" in table
    assert "| -10.0 | n/a (one seed) |" in table  # one seed: no interval
    _write_run(variant / "runs", "lc_small", model="lc_small", seed=1, accuracy=0.9)
    _write_run(base / "runs", "lc_small", model="lc_small", seed=1, accuracy=0.8)
    assert "(2 seeds, not resolved) |" in results.compare(str(base), str(variant))  # -10 then +10 points

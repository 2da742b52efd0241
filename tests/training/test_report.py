"""Results tables: matched parameter budgets and the test-time shift experiment."""

import shutil

import numpy as np
import pytest

from tests.training import cli
from training import report, shift


def _row(model, family, params, test, val):
    return {"model": model, "family": family, "trainable_params": params,
            "test_accuracy_mean": test, "best_val_accuracy_mean": val}


def test_matched_budgets_choose_by_validation_never_by_test():
    rows = [
        _row("small", "mlp", 1_000, 0.70, 0.71),
        _row("big_val", "mlp", 9_000, 0.80, 0.90),  # best validation within 10k
        _row("big_test", "mlp", 8_000, 0.95, 0.85),  # best test: must not be chosen
        _row("huge", "mlp", 50_000, 0.99, 0.99),
        _row("conv", "multi_channel_conv", 5_000, 0.91, 0.92),
    ]
    table = report.matched_budgets(rows, [2_000, 10_000, 100_000])
    lines = table.splitlines()
    assert lines[0] == "| budget (parameters) | mlp | multi_channel_conv |"
    assert lines[2] == "| ≤ 2,000 | 0.7000 (small, 1,000) | — |"
    assert lines[3] == "| ≤ 10,000 | 0.8000 (big_val, 9,000) | 0.9100 (conv, 5,000) |"
    assert lines[4] == "| ≤ 100,000 | 0.9900 (huge, 50,000) | 0.9100 (conv, 5,000) |"


def test_report_cli_rejects_bad_budgets(tmp_path, capsys):
    (tmp_path / "runs").mkdir()
    with pytest.raises(SystemExit) as raised:
        report.main([str(tmp_path), "--budgets", "10k,x"])
    assert raised.value.code == 2
    assert "--budgets expects comma-separated parameter counts; received '10k,x'" in capsys.readouterr().err


def test_shift_images_moves_content_and_zero_fills():
    from training.variants import shift_images

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
    by_shift = {int(line.split(",")[4]): float(line.split(",")[5]) for line in lines[1:]}
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

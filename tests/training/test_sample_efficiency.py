"""constrained_zoo.training.sample_efficiency's protocol, on results folders the test writes (no training here).

The end-to-end command (sweeps on digits) runs in `make test-slow`.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.training import cli
from constrained_zoo.training.sweeps import sample_efficiency as study


def test_every_size_gets_the_same_number_of_steps():
    assert [study.epochs_for(n, 2160, 100) for n in (500, 1000, 2000, 3600)] == [432, 216, 108, 60]
    for n in (1, 99, 100, 101, 777):
        steps_per_epoch = -(-n // 100)
        assert study.epochs_for(n, 2160, 100) * steps_per_epoch >= 2160
        assert (study.epochs_for(n, 2160, 100) - 1) * steps_per_epoch < 2160


def test_the_width_nearest_the_budget_is_chosen():
    def count(name, width):
        return int(1000 * width ** 2)

    assert study.match_width("m", 10_000, count) == (3.2, 10_240)
    assert study.match_width("m", 1, count)[0] == min(study.WIDTHS)


def _run(root, size, rate, model, family, seed, val, test, params=100):
    run = root / f"n{size}" / f"lr{rate:g}" / "runs" / model / f"seed{seed}"
    run.mkdir(parents=True)
    result = {"model": model, "family": family, "trainable_params": params, "epochs": 1, "num_train": size,
              "wall_time_seconds": 1.0, "seed": seed, "best_val_accuracy": val, "test_accuracy": test}
    (run / "results.json").write_text(json.dumps(result))
    (run / "config.json").write_text(json.dumps({"args": {"model": model, "seed": seed, "max_train_examples": size,
                                                          "learning_rate": rate}}))


@pytest.fixture
def folder(tmp_path):
    # fully connected, locally connected, convolution at two sizes; two rates, seed 0 chooses.
    for size, scale in ((100, 0.0), (1000, 0.1)):
        for model, family, base in (("mlp", "mlp", 0.5), ("lc", "locally_connected", 0.6),
                                    ("cnn", "multi_channel_conv", 0.8)):
            _run(tmp_path, size, 0.001, model, family, 0, val=base + scale, test=base + scale)
            _run(tmp_path, size, 0.01, model, family, 0, val=base + scale + 0.01, test=base + scale - 0.05)
            _run(tmp_path, size, 0.01, model, family, 1, val=base + scale + 0.01, test=base + scale - 0.03)
    return tmp_path


def test_the_rate_is_chosen_on_validation_never_on_test(folder):
    chosen = study.choose_rates(str(folder), [100, 1000], [0.001, 0.01])
    assert set(chosen.values()) == {0.01}  # validation prefers 0.01 although its test accuracy is lower
    table = study.rows(str(folder), chosen)
    cnn = [r for r in table if r["model"] == "cnn" and r["size"] == 100][0]
    assert cnn["seeds"] == 2 and cnn["test"] == pytest.approx(0.76) and cnn["std"] == pytest.approx(0.01414, abs=1e-4)


def test_examples_needed_and_the_chapters_order_per_size(folder):
    table = study.rows(str(folder), study.choose_rates(str(folder), [100, 1000], [0.001, 0.01]))
    needed = study.examples_needed(table, [0.7, 0.85])
    assert needed["cnn"] == {0.7: 100, 0.85: 1000} and needed["mlp"] == {0.7: None, 0.85: None}
    verdicts = study.verdicts(table)
    assert [(size, holds) for size, _, holds, _ in verdicts] == [(100, True), (1000, True)]
    assert [round(gap, 1) for *_, gap in verdicts] == [30.0, 30.0]
    text = study.markdown(table, [0.7, 0.85])
    assert "the chapter's order holds (convolution − locally connected +20.0 points [+20.0, +20.0]" in text
    assert "neither widens nor narrows resolvably" in text and "> 1,000" in text


def test_each_group_is_its_model_of_best_validation_not_of_best_test(tmp_path):
    # Two convolution models: sharedconv validates better, cnn tests better; the group takes sharedconv.
    for model, family, val, test in (("mlp", "mlp", 0.5, 0.5), ("lc", "locally_connected", 0.6, 0.6),
                                     ("shared", "shared_conv", 0.9, 0.7), ("cnn", "multi_channel_conv", 0.8, 0.95)):
        _run(tmp_path, 100, 0.001, model, family, 0, val=val, test=test)
    [(size, groups, holds, gap)] = study.verdicts(study.report(str(tmp_path), [0.5])[0])
    assert groups["convolution"] == (0.7, "shared") and holds is True and gap == pytest.approx(20.0)


def test_partial_sharing_is_placed_between_locally_connected_and_convolution(folder):
    for size, test in ((100, 0.75), (1000, 0.65)):
        _run(folder, size, 0.001, "lrlc", study.PARTLY_SHARED, 0, val=0.7, test=test)
        _run(folder, size, 0.01, "lrlc", study.PARTLY_SHARED, 0, val=0.6, test=0.0)
    table, text = study.report(str(folder), [0.7])
    placed = {size: rest for size, model, *rest in study.partial_sharing(table)}
    # At the chosen rate 0.01 (two seeds): n=100, lc 0.56 and conv 0.76, so (0.75 - 0.56) / 0.2;
    # n=1000, lc 0.66 and conv 0.86: lrlc's 0.65 lands below both.
    assert placed[100][:3] == pytest.approx([0.75, 0.56, 0.76]) and placed[100][3] == pytest.approx(0.95)
    assert placed[1000][3] == pytest.approx(-0.05)
    assert ("partial sharing, lrlc 0.7500, lands between locally connected 0.5600 and convolution 0.7600, "
            "0.95 of the way from the first to the second" in text)
    assert "partial sharing, lrlc 0.6500, lands below both locally connected 0.6600 and convolution 0.8600" in text


def test_partial_sharing_is_placed_by_intervals_paired_by_seed(tmp_path):
    from constrained_zoo.training.sweeps.paired import t_interval

    tests = {"mlp": (0.50, 0.52, 0.49), "lc": (0.60, 0.63, 0.61), "cnn": (0.80, 0.83, 0.84),
             "lrlc": (0.70, 0.72, 0.73), "lrlc_close": (0.61, 0.62, 0.62)}
    families = {"mlp": "mlp", "lc": "locally_connected", "cnn": "multi_channel_conv", "lrlc": study.PARTLY_SHARED,
                "lrlc_close": study.PARTLY_SHARED}
    for model, values in tests.items():
        for seed, test in enumerate(values):
            _run(tmp_path, 100, 0.001, model, families[model], seed, val=0.5, test=test)
    _, text = study.report(str(tmp_path), [0.5])

    def interval(a, b):
        mean, low, high = t_interval([100 * (x - y) for x, y in zip(tests[a], tests[b])], 0.95)
        return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}] points"

    assert (f"partial sharing, lrlc 0.7167, lands between locally connected 0.6133 and convolution 0.8233, 0.49 of "
            f"the way from the first to the second; paired by seed, between the two, resolved on both sides "
            f"(partly shared − locally connected {interval('lrlc', 'lc')} (partly shared ahead); convolution − "
            f"partly shared {interval('cnn', 'lrlc')} (convolution ahead); 95% intervals)." in text)
    assert (f"paired by seed, its place is not resolved (partly shared − locally connected "
            f"{interval('lrlc_close', 'lc')} (not resolved); convolution − partly shared "
            f"{interval('cnn', 'lrlc_close')} (convolution ahead); 95% intervals)." in text)


def test_partial_sharing_is_not_placed_on_a_reversed_interval(tmp_path):
    # Convolution behind locally connected (the shuffled control): no fraction, only where it lies.
    for model, family, test in (("mlp", "mlp", 0.5), ("lc", "locally_connected", 0.7),
                                ("cnn", "multi_channel_conv", 0.6), ("lrlc", study.PARTLY_SHARED, 0.65)):
        _run(tmp_path, 100, 0.001, model, family, 0, val=test, test=test)
    table, text = study.report(str(tmp_path), [0.5])
    [(_, _, _, local, conv, place)] = study.partial_sharing(table)
    assert (local, conv, place) == (0.7, 0.6, None)
    assert ("lands between locally connected 0.7000 and convolution 0.6000; paired by seed, its place is not "
            "resolved (partly shared − locally connected -5.0 points (one seed: no interval)" in text)


def test_the_sizes_and_rates_are_read_from_the_folder(folder):
    assert study.discover(str(folder)) == ([100, 1000], [0.001, 0.01])


def test_report_only_writes_every_size_in_the_folder_whatever_the_command_names(folder, capsys):
    from constrained_zoo.training import sample_efficiency

    assert sample_efficiency.main(["--models", "mlp,lc,cnn", "--sizes", "100", "--steps", "10", "--rates", "0.5",
                                   "--targets", "0.6", "--report-only", "--out", str(folder)]) == 0
    table, text = study.report(str(folder), [0.6])
    assert (folder / "sample_efficiency.md").read_text() == text and "n = 1,000" in text
    assert (folder / "sample_efficiency.csv").read_text() == sample_efficiency.to_csv(table)
    assert (folder / "accuracy_vs_examples.png").stat().st_size > 0
    assert sample_efficiency.main(["--models", "mlp", "--sizes", "100", "--steps", "10", "--report-only",
                                   "--out", str(folder / "missing")]) == 2
    assert f"no finished runs in {folder / 'missing'}" in capsys.readouterr().err


def test_the_committed_studies_regenerate_from_their_runs():
    """Each finished study under results/sample_efficiency: its .md and .csv are what its runs give."""
    from constrained_zoo.training import sample_efficiency

    root = os.path.join(cli.REPO, "results", "sample_efficiency")
    written = [d for d in sorted(os.listdir(root)) if os.path.exists(os.path.join(root, d, "sample_efficiency.md"))]
    for name in written:
        out = os.path.join(root, name)
        with open(os.path.join(out, "sample_efficiency.md"), encoding="utf-8") as f:
            committed = f.read()
        header = next(line for line in committed.splitlines() if line.startswith("| model | ≥ "))
        targets = [float(cell.strip()[2:]) for cell in header.strip("|").split("|")[1:]]
        table, text = study.report(out, targets)
        assert text == committed, f"{name}: run python -m constrained_zoo.training.sample_efficiency ... --report-only"
        with open(os.path.join(out, "sample_efficiency.csv"), encoding="utf-8") as f:
            assert sample_efficiency.to_csv(table) == f.read(), name


def test_a_grid_with_a_missing_rate_chooses_nothing_for_that_model(tmp_path):
    _run(tmp_path, 100, 0.001, "mlp", "mlp", 0, 0.5, 0.5)
    assert study.choose_rates(str(tmp_path), [100], [0.001, 0.01]) == {}


@pytest.mark.slow
def test_the_command_trains_chooses_and_reports(tmp_path):
    done = subprocess.run([sys.executable, "-m", "constrained_zoo.training.sample_efficiency", "--dataset", "digits",
                           "--models", "mlp_small,cnn_small", "--budget", "3000", "--sizes", "200,400",
                           "--steps", "10", "--batch-size", "64", "--rates", "0.003,0.01", "--seeds", "2",
                           "--out", str(tmp_path)], cwd=cli.REPO, env=cli.ENV, capture_output=True, text=True,
                          timeout=3 * cli.TIMEOUT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for name in ("sample_efficiency.md", "sample_efficiency.csv", "accuracy_vs_examples.png"):
        assert os.path.getsize(tmp_path / name) > 0
    assert "n = 200" in (tmp_path / "sample_efficiency.md").read_text()

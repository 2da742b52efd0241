"""Protocol files: read with clear errors, followed by the study's driver, reported with intervals."""

import json
import os
import shutil

import numpy as np
import pytest
from scipy import stats

from constrained_zoo.training.sweeps import protocol as protocols
from constrained_zoo.training.sweeps import protocol_plot, protocol_report
from constrained_zoo.training.sweeps import sample_efficiency as study

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

VALID = {
    "study": "t", "question": "q", "dataset": "mnist1d", "budget": 3000, "models": ["mlp_1d_small"],
    "sizes": [200], "steps": 10, "batch_size": 50, "lr_schedule": "cosine", "rates": [0.001, 0.003, 0.01],
    "ladder": [0.0003, 0.001, 0.003, 0.01, 0.03], "seeds": 3, "selection": "final_val_accuracy",
    "conditions": {"true order": {"pixel_shuffle": False, "out": "a"}, "shuffled": {"pixel_shuffle": True, "out": "b"}},
    "interval": 0.95,
}


@pytest.mark.parametrize("path", sorted(
    os.path.join(root, "protocol.json") for root, _, files in os.walk(os.path.join(REPO, "results", "studies"))
    if "protocol.json" in files))
def test_committed_protocols_load(path):
    protocol = protocols.load(path)
    assert protocol.seeds >= 3 and len(protocol.rates) >= 3
    assert protocol.conditions[0].pixel_shuffle is False
    here = os.path.relpath(os.path.dirname(path), REPO)
    assert all(c.out.startswith(here + "/") for c in protocol.conditions), "a study's runs live beside its protocol"


@pytest.mark.parametrize("change, message", [
    ({"rates": [0.001, 0.003]}, "`rates` needs at least 3 learning rates; received rates=[0.001, 0.003]"),
    ({"rates": [0.001, 0.01, 0.03]}, "`rates` must be consecutive rungs of `ladder`"),
    ({"rates": [0.01, 0.003, 0.001]}, "`rates` must be increasing positive numbers"),
    ({"seeds": 2}, "`seeds` must be an integer >= 3; received seeds=2"),
    ({"selection": "best_val_accuracy"}, "`selection` must be one of ('final_val_accuracy',)"),
    ({"lr_schedule": "step"}, "received lr_schedule='step'"),
    ({"interval": 95}, "received interval=95"),
    ({"budget": -1}, "received budget=-1"),
    ({"sizes": []}, "`sizes` must be a non-empty list of positive integers"),
    ({"extra": 1}, "unknown field(s) ['extra']"),
    ({"validation_points": 1}, "`validation_points` must be an integer >= 2 or null; received validation_points=1"),
    ({"validation_points": True}, "received validation_points=True"),
    ({"conditions": {"a": {"pixel_shuffle": False, "out": "x"}, "b": {"pixel_shuffle": True, "out": "x"}}},
     "every condition needs its own `out`"),
])
def test_bad_protocols_name_the_field_and_value(change, message):
    with pytest.raises(protocols.ProtocolError) as error:
        protocols.from_dict({**VALID, **change}, "p.json")
    assert message in str(error.value) and str(error.value).startswith("p.json: ")


def test_missing_field_and_unreadable_file(tmp_path):
    data = dict(VALID)
    del data["seeds"]
    with pytest.raises(protocols.ProtocolError, match=r"missing field\(s\) \['seeds'\]"):
        protocols.from_dict(data)
    (tmp_path / "p.json").write_text("{not json")
    with pytest.raises(protocols.ProtocolError, match="not JSON"):
        protocols.load(tmp_path / "p.json")
    with pytest.raises(protocols.ProtocolError, match="cannot read the protocol"):
        protocols.load(tmp_path / "missing.json")


@pytest.mark.parametrize("tried, chosen, expected", [
    ((0.001, 0.003, 0.01), 0.01, 0.03), ((0.001, 0.003, 0.01), 0.001, 0.0003), ((0.001, 0.003, 0.01), 0.003, None),
    ((0.003, 0.01, 0.03), 0.03, None), ((0.0003, 0.001, 0.003), 0.0003, None),
])
def test_an_edge_that_wins_extends_along_the_ladder(tried, chosen, expected):
    assert protocols.next_rate(tuple(VALID["ladder"]), list(tried), chosen) == expected


def test_epochs_make_at_least_the_steps():
    protocol = protocols.from_dict({**VALID, "steps": 3240, "batch_size": 100})
    for size in (500, 1000, 2000, 3600, 333):
        batches = -(-size // 100)
        assert protocol.epochs_for(size) * batches >= 3240 > (protocol.epochs_for(size) - 1) * batches


def test_choose_rate_uses_the_mean_and_ties_go_to_the_smaller_rate():
    assert study.choose_rate({0.001: 0.90, 0.003: 0.91, 0.01: 0.905}) == 0.003
    assert study.choose_rate({0.001: 0.9, 0.003: 0.9 + 1e-9, 0.01: 0.8}) == 0.001


def test_t_interval_against_scipy():
    values = [1.0, 2.5, 0.5, 3.0, 2.0]
    mean, low, high = protocol_report.t_interval(values, 0.95)
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values))
    assert (low, high) == pytest.approx(expected)
    assert protocol_report.t_interval([2.0], 0.95) == (2.0, None, None)


@pytest.mark.parametrize("low, high, expected", [(0.5, 2.0, "A ahead"), (-2.0, -0.5, "B ahead"),
                                                 (-1.0, 1.0, "not resolved")])
def test_said_resolves_only_intervals_that_exclude_zero(low, high, expected):
    assert protocol_report.said(0.0, low, high, "A", "B") == expected


def _fake_run(root, folder, family, seed, val, test, epochs=10, model=None, model_args=None):
    run = root / "runs" / folder / f"seed{seed}"
    run.mkdir(parents=True)
    model = model or folder
    (run / "results.json").write_text(json.dumps({
        "model": model, "family": family, "seed": seed, "final_val_accuracy": val, "best_val_accuracy": val,
        "test_accuracy": test, "params": 100, "trainable_params": 100}))
    (run / "config.json").write_text(json.dumps({"args": {"model": model, "seed": seed,
                                                          "model_args": model_args or {}}}))
    history = "epoch,val_accuracy\n" + "".join(f"{e + 1},{val * (e + 1) / epochs}\n" for e in range(epochs))
    (run / "history.csv").write_text(history)


def test_the_report_hides_test_until_complete_then_pairs_by_seed(tmp_path, capsys):
    data = {**VALID, "models": ["mlp_1d_small", "cnn1d_base"], "sizes": [100, 400], "seeds": 3,
            "conditions": {"true order": {"pixel_shuffle": False, "out": str(tmp_path / "t")},
                           "shuffled": {"pixel_shuffle": True, "out": str(tmp_path / "s")}}}
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(data))
    protocol = protocols.load(str(path))
    rng = np.random.default_rng(0)
    tests = {}
    for condition in protocol.conditions:
        for size in protocol.sizes:
            for rate in protocol.rates:
                for model, family in (("mlp_1d_small", "mlp"), ("cnn1d_base", "multi_channel_conv")):
                    for seed in range(3):
                        val = 0.5 + (rate == 0.003) * 0.1 + rng.uniform(0, 0.01)  # the middle rate wins
                        test = 0.5 + (family != "mlp") * 0.2 + rng.uniform(0, 0.01) + (not condition.pixel_shuffle) * 0.1
                        tests[condition.name, model, size, rate, seed] = test
                        _fake_run(tmp_path / condition.out / f"n{size}" / f"lr{rate:g}", model, family, seed, val,
                                  test)
                if condition.name == "shuffled" and size == 400:
                    break  # the control's n = 400 stops after its first rate
    assert protocol_report.main(protocol) == 3
    err = capsys.readouterr().err
    assert "not complete" in err and "shuffled, mlp_1d_small, n = 400: rates [0.003, 0.01]" in err
    assert "0.7" not in err and not (tmp_path / "report.md").exists()
    assert not (tmp_path / "accuracy_vs_examples.png").exists()  # a figure of test accuracy waits as well
    for rate in protocol.rates[1:]:  # complete it
        for model, family in (("mlp_1d_small", "mlp"), ("cnn1d_base", "multi_channel_conv")):
            for seed in range(3):
                val = 0.5 + (rate == 0.003) * 0.1
                tests["shuffled", model, 400, rate, seed] = test = 0.5 + (family != "mlp") * 0.2 + 0.001 * seed
                _fake_run(tmp_path / "s" / "n400" / f"lr{rate:g}", model, family, seed, val, test)
    assert protocol_report.main(protocol) == 0
    report = (tmp_path / "report.md").read_text()
    cells = (tmp_path / "cells.csv").read_text().splitlines()
    assert len(cells) == 1 + 2 * 2 * 2 * 3 and all(",0.003," in line for line in cells[1:])
    diffs = [100 * (tests["true order", "cnn1d_base", 100, 0.003, s] - tests["true order", "mlp_1d_small", 100, 0.003, s])
             for s in range(3)]
    mean, low, high = protocol_report.t_interval(diffs, 0.95)
    assert f"| MultiChannelConv − fully connected | 100 | {mean:+.1f} | [{low:+.1f}, {high:+.1f}] | 3 |" in report
    assert "#### The spatial prior's part: true order minus shuffled" in report
    # history.csv climbs by a tenth of the final validation each epoch: the last 10% (one epoch) gains 6 points
    assert "| true order | cnn1d_base | 10 | 10.0 | +6.0" in report and "still improving |" in report
    assert (tmp_path / "accuracy_vs_examples.png").stat().st_size > 0
    cells, _ = protocol_report.gather(protocol)
    fig = protocol_plot.figure(protocol, cells)
    assert [ax.get_title() for ax in fig.axes] == ["true order", "shuffled"]
    for ax, condition in zip(fig.axes, ("true order", "shuffled")):  # a line per model: its seeds' mean test
        for line, model in zip(ax.get_lines(), ("mlp_1d_small", "cnn1d_base")):
            assert list(line.get_xdata()) == [100, 400]
            expected = [np.mean([tests[condition, model, n, 0.003, s] for s in range(3)]) for n in (100, 400)]
            np.testing.assert_allclose(line.get_ydata(), expected)
            assert line.get_label().startswith(f"{model} (")


VARIANTS = {"lrlc1d_r4_10k+softmax": {"model": "lrlc1d_r4_10k", "overrides": {"mixing_normalization": "softmax"}}}


@pytest.mark.parametrize("change, message", [
    ({"variants": {"v": {"model": "m"}}}, "`variants` must map names to"),
    ({"variants": {"v": {"model": "m", "overrides": {}}}}, "`variants` must map names to"),
    ({"variants": {"v": {"model": "m", "overrides": {"width": 2}}}}, "variant 'v' sets `width`, which the budget"),
    ({"comparisons": [{"a": "mlp_1d_small", "b": "nope", "role": "primary"}]},
     "a comparison names two different entries of `models`; received a='mlp_1d_small', b='nope'"),
    ({"models": ["mlp_1d_small", "cnn1d_base"], "comparisons": [{"a": "cnn1d_base", "b": "mlp_1d_small",
                                                                  "role": "main"}]}, "received role='main'"),
    ({"models": ["mlp_1d_small", "cnn1d_base"], "comparisons": [{"a": "cnn1d_base", "b": "mlp_1d_small",
                                                                  "role": "primary", "sizes": [999]}]},
     "a comparison's `sizes` are some of `sizes` [200]; received sizes=[999]"),
    ({"models": ["mlp_1d_small", "mlp_1d_small"]}, "`models` must be a non-empty list of distinct names"),
])
def test_bad_variants_and_comparisons_name_the_field_and_value(change, message):
    with pytest.raises(protocols.ProtocolError) as error:
        protocols.from_dict({**VALID, **change}, "p.json")
    assert message in str(error.value)


def test_a_variant_is_its_zoo_model_with_overrides_and_its_runs_are_its_own():
    protocol = protocols.from_dict({**VALID, "models": ["lrlc1d_r4_10k", *VARIANTS], "variants": VARIANTS})
    assert protocol.zoo_model("lrlc1d_r4_10k+softmax") == ("lrlc1d_r4_10k", {"mixing_normalization": "softmax"})
    assert protocol.zoo_model("lrlc1d_r4_10k") == ("lrlc1d_r4_10k", {})
    free = {"model": "lrlc1d_r4_10k", "model_args": {"width": 0.9}}
    softmax = {"model": "lrlc1d_r4_10k", "model_args": {"width": 0.9, "mixing_normalization": "softmax"}}
    assert study.is_run_of(free, "lrlc1d_r4_10k", {}) and not study.is_run_of(softmax, "lrlc1d_r4_10k", {})
    assert study.is_run_of(softmax, "lrlc1d_r4_10k", {"mixing_normalization": "softmax"})
    assert study.is_run_of(softmax, "lrlc1d_r4_10k") and not study.is_run_of(softmax, "cnn1d_base")


def test_the_driver_trains_a_variant_with_its_overrides_at_its_own_budget_width(tmp_path, monkeypatch):
    from constrained_zoo.training import sample_efficiency as driver
    from constrained_zoo.training.sweeps.results import weights_of

    protocol = protocols.from_dict({**VALID, "models": ["lrlc1d_r4_10k", *VARIANTS], "variants": VARIANTS,
                                    "budget": 5_000, "conditions": {"t": {"pixel_shuffle": False,
                                                                           "out": str(tmp_path)}}})
    calls = []
    monkeypatch.setattr(driver.sweep, "main", lambda argv: calls.append(argv) or 0)
    assert driver.train_protocol(protocol, protocol.conditions, jobs=1) == 0
    widths = driver.protocol_widths(protocol)
    softmax = [argv for argv in calls if "mixing_normalization=softmax" in argv]
    assert len(softmax) == len(calls) // 2 == len(protocol.rates)
    assert all(argv[argv.index("--models") + 1] == "lrlc1d_r4_10k" for argv in calls)
    assert widths["lrlc1d_r4_10k+softmax"] != 1.0 and f"width={widths['lrlc1d_r4_10k+softmax']}" in softmax[0]
    for name, width in widths.items():  # each is the width nearest the budget, counted with its overrides
        overrides = protocol.zoo_model(name)[1]
        nearest = min(study.WIDTHS, key=lambda w: (abs(weights_of("lrlc1d_r4_10k", {**overrides, "width": w})
                                                       - 5_000), w))
        assert width == nearest


def test_the_report_of_variants_makes_exactly_the_listed_comparisons(tmp_path, capsys):
    models = ["cnn1d_base", "lrlc1d_r4_10k", "lrlc1d_r4_10k+softmax"]
    comparisons = [{"a": "lrlc1d_r4_10k+softmax", "b": "cnn1d_base", "role": "primary", "sizes": [400]},
                   {"a": "lrlc1d_r4_10k+softmax", "b": "lrlc1d_r4_10k", "role": "exploratory"}]
    data = {**VALID, "models": models, "variants": VARIANTS, "sizes": [100, 400],
            "conditions": {"true order": {"pixel_shuffle": False, "out": str(tmp_path / "t")}}}
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(data))
    rng = np.random.default_rng(1)
    tests = {}
    for size in (100, 400):
        for rate in VALID["rates"]:
            for name, family, slug, args in (
                    ("cnn1d_base", "multi_channel_conv", "cnn1d_base", {}),
                    ("lrlc1d_r4_10k", "low_rank_locally_connected", "lrlc1d_r4_10k-width0.9", {"width": 0.9}),
                    ("lrlc1d_r4_10k+softmax", "low_rank_locally_connected", "lrlc1d_r4_10k-softmax",
                     {"width": 0.9, "mixing_normalization": "softmax"})):
                for seed in range(3):
                    tests[name, size, rate, seed] = test = 0.6 + rng.uniform(0, 0.1)
                    _fake_run(tmp_path / "t" / f"n{size}" / f"lr{rate:g}", slug, family, seed,
                              0.5 + (rate == 0.003) * 0.1, test, model=name.split("+")[0], model_args=args)
    crowded = protocols.load(str(path))
    assert protocol_report.main(crowded) == 2  # two low-rank models and no comparisons: refused, said why
    assert "list the differences wanted in `comparisons`" in capsys.readouterr().err
    path.write_text(json.dumps({**data, "comparisons": comparisons}))
    assert protocol_report.main(protocols.load(str(path))) == 0
    report = (tmp_path / "report.md").read_text()
    diffs = [100 * (tests["lrlc1d_r4_10k+softmax", 400, 0.003, s] - tests["cnn1d_base", 400, 0.003, s])
             for s in range(3)]
    mean, low, high = protocol_report.t_interval(diffs, 0.95)
    label = "lrlc1d_r4_10k+softmax − cnn1d_base (primary)"
    assert f"| {label} | 400 | {mean:+.1f} | [{low:+.1f}, {high:+.1f}] | 3 |" in report
    assert f"| {label} | 100 |" not in report and f"| {label}: n = " not in report  # the primary size only
    assert "| lrlc1d_r4_10k+softmax − lrlc1d_r4_10k (exploratory) | 100 |" in report
    assert "(exploratory): n = 100 minus n = 400 |" in report
    assert "| true order | lrlc1d_r4_10k+softmax | partly shared |" in report
    assert "locally connected − fully connected" not in report


def test_the_figure_of_a_study_of_one_size_draws_each_model_as_a_point_with_its_interval(tmp_path):
    data = {**VALID, "models": ["mlp_1d_small", "cnn1d_base"], "sizes": [400],
            "conditions": {"true order": {"pixel_shuffle": False, "out": str(tmp_path / "t")}}}
    (tmp_path / "protocol.json").write_text(json.dumps(data))
    protocol = protocols.load(str(tmp_path / "protocol.json"))
    tests = {}
    for rate in VALID["rates"]:
        for model, family in (("mlp_1d_small", "mlp"), ("cnn1d_base", "multi_channel_conv")):
            for seed in range(3):
                tests[model, seed] = test = 0.5 + (family != "mlp") * 0.3 + 0.01 * seed
                _fake_run(tmp_path / "t" / "n400" / f"lr{rate:g}", model, family, seed, 0.5 + (rate == 0.003) * 0.1,
                          test)
    cells, missing = protocol_report.gather(protocol)
    assert not missing
    (ax,) = protocol_plot.figure(protocol, cells).axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["mlp_1d_small", "cnn1d_base"]
    for index, (line, model) in enumerate(zip(ax.get_lines()[::3], ("mlp_1d_small", "cnn1d_base"))):
        mean, low, high = protocol_report.t_interval([tests[model, s] for s in range(3)], 0.95)
        assert list(line.get_xdata()) == [index] and line.get_ydata()[0] == pytest.approx(mean)
    bars = [c for c in ax.collections]  # one vertical segment a model: its interval
    assert [tuple(np.round(b.get_segments()[0][:, 1], 6)) for b in bars] == [
        tuple(np.round(protocol_report.t_interval([tests[m, s] for s in range(3)], 0.95)[1:], 6))
        for m in ("mlp_1d_small", "cnn1d_base")]


def test_the_driver_passes_validation_points_only_when_the_protocol_sets_them(tmp_path, monkeypatch):
    from constrained_zoo.training import sample_efficiency as driver

    conditions = {"t": {"pixel_shuffle": False, "out": str(tmp_path)}}
    for points, expected in ((None, None), (50, "50")):
        data = {**VALID, "conditions": conditions, **({"validation_points": points} if points else {})}
        protocol = protocols.from_dict(data)
        assert protocol.validation_points == points
        calls = []
        monkeypatch.setattr(driver.sweep, "main", lambda argv: calls.append(argv) or 0)
        assert driver.train_protocol(protocol, protocol.conditions, jobs=1) == 0
        assert len(calls) == len(protocol.rates)
        for argv in calls:
            given = argv[argv.index("--validation-points") + 1] if "--validation-points" in argv else None
            assert given == expected


def test_convergence_reads_a_history_validated_on_some_epochs(tmp_path):
    """Epochs 5, 10, ..., 100 validated: the best is the epoch of the highest, the gain is from epoch 90 to 100."""
    from constrained_zoo.training.sweeps import protocol_tables

    run = tmp_path / "run"
    run.mkdir()
    values = {e: 0.5 + 0.004 * e for e in range(5, 101, 5)}
    values[95] = 0.99  # the best epoch is not the last
    rows = "".join(f"{e},{values.get(e, '')},{0.1}\n" for e in range(1, 101))
    (run / "history.csv").write_text("epoch,val_accuracy,loss\n" + rows)
    protocol = protocols.from_dict({**VALID, "validation_points": 20})
    cells = {("true order", "mlp_1d_small", 200): {"runs": {0: {"run_dir": str(run)}}}}
    [row] = protocol_tables.convergence(protocol, cells)[2:]
    gain = 100 * (values[100] - values[90])
    assert row == f"| true order | mlp_1d_small | 100 | 95.0 | {gain:+.2f} | still improving |"


def test_findings_are_sentences_of_the_reports_intervals(tmp_path):
    """The lead of cnn over mlp grows as data shrink in both conditions alike, so its spatial part does not grow."""
    from constrained_zoo.training.sweeps import protocol_findings

    data = {**VALID, "models": ["mlp_1d_small", "cnn1d_base"], "sizes": [400, 100], "seeds": 3,
            "conditions": {"true order": {"pixel_shuffle": False, "out": str(tmp_path / "t")},
                           "shuffled": {"pixel_shuffle": True, "out": str(tmp_path / "s")}}}
    (tmp_path / "protocol.json").write_text(json.dumps(data))
    protocol = protocols.load(str(tmp_path / "protocol.json"))
    lead = {400: (0.10, 0.11, 0.12), 100: (0.20, 0.22, 0.21)}  # cnn minus mlp, by seed: larger with fewer examples
    tests = {}
    for condition in protocol.conditions:
        for size in protocol.sizes:
            for rate in protocol.rates:
                for seed in range(3):
                    val = 0.5 + (rate == 0.003) * 0.1
                    mlp = 0.5 + 0.01 * seed + (size == 400) * 0.1
                    cnn = (mlp + lead[size][seed] + (not condition.pixel_shuffle) * (0.05 + 0.002 * (seed - 1) * (size == 100))
                           + 0.001 * seed * (size == 100))
                    tests[condition.name, size, seed] = 100 * (cnn - mlp)
                    for model, family, test in (("mlp_1d_small", "mlp", mlp), ("cnn1d_base", "multi_channel_conv", cnn)):
                        _fake_run(tmp_path / condition.out / f"n{size}" / f"lr{rate:g}", model, family, seed, val, test)
    assert "In progress" not in protocol_findings.block(protocol)
    [line] = [l for l in protocol_findings.block(protocol).splitlines() if l.startswith("- MultiChannelConv")]

    def interval(values):
        mean, low, high = protocol_report.t_interval(values, 0.95)
        return f"{mean:+.1f} [{low:+.1f}, {high:+.1f}]"

    true_change = [tests["true order", 100, s] - tests["true order", 400, s] for s in range(3)]
    control_change = [tests["shuffled", 100, s] - tests["shuffled", 400, s] for s in range(3)]
    part_change = [t - c for t, c in zip(true_change, control_change)]
    assert line.startswith(f"- MultiChannelConv − fully connected: {interval([tests['true order', 400, s] for s in range(3)])} "
                           "points at n = 400 (MultiChannelConv ahead); ")
    assert f"From n = 400 to n = 100 it changes by {interval(true_change)} points (grows as data shrink)" in line
    assert f"shuffled, by {interval(control_change)} points (grows as data shrink)" in line
    assert (f"the part the spatial order buys (true order minus shuffled), by {interval(part_change)} points "
            "(not resolved)." in line)
    for path in (tmp_path / "s" / "n100" / "lr0.01" / "runs" / "cnn1d_base").glob("seed*"):
        shutil.rmtree(path)  # incomplete again: progress, and no accuracy
    text = protocol_findings.block(protocol)
    assert text.startswith("In progress: ") and "0." not in text.split("cells")[1]


@pytest.mark.parametrize("second, verdict", [
    ((+2.0, +0.5, +3.5), "holds: every interval lies above 0"),
    ((+1.0, -0.5, +2.5), "is not resolved: an interval covers 0"),
    ((-2.0, -3.5, -0.5), "does not hold: lc1d_small is ahead"),
])
def test_a_claim_to_beat_several_families_needs_every_interval_above_zero(second, verdict):
    """The paper's claim: the partly shared model beats each other family; its own family's variant is another question."""
    from constrained_zoo.training.sweeps import protocol_findings

    models = ["cnn1d_base", "lc1d_small", "lrlc1d_r4_10k", "lrlc1d_r4_10k+softmax"]
    comparisons = [{"a": "lrlc1d_r4_10k+softmax", "b": "cnn1d_base", "role": "primary", "sizes": [400]},
                   {"a": "lrlc1d_r4_10k+softmax", "b": "lc1d_small", "role": "primary", "sizes": [400]},
                   {"a": "lrlc1d_r4_10k+softmax", "b": "lrlc1d_r4_10k", "role": "primary", "sizes": [400]},
                   {"a": "lrlc1d_r4_10k", "b": "cnn1d_base", "role": "exploratory", "sizes": [400]}]
    protocol = protocols.from_dict({**VALID, "models": models, "variants": VARIANTS, "sizes": [400],
                                    "comparisons": comparisons})
    groups = {"cnn1d_base": "MultiChannelConv", "lc1d_small": "locally connected", "lrlc1d_r4_10k": "partly shared",
              "lrlc1d_r4_10k+softmax": "partly shared"}
    first = (+3.0, +1.0, +5.0)
    by_condition = {"true order": {
        "lrlc1d_r4_10k+softmax − cnn1d_base (primary)": {400: (*first, 3, {})},
        "lrlc1d_r4_10k+softmax − lc1d_small (primary)": {400: (*second, 3, {})},
        "lrlc1d_r4_10k+softmax − lrlc1d_r4_10k (primary)": {400: (-5.0, -6.0, -4.0, 3, {})},  # not part of the claim
        "lrlc1d_r4_10k − cnn1d_base (exploratory)": {400: (-9.0, -10.0, -8.0, 3, {})}}}
    assert protocol_findings.joint_claims(protocol, by_condition, groups) == [
        f"- The claim that lrlc1d_r4_10k+softmax beats each of cnn1d_base, lc1d_small at n = 400 {verdict}."]

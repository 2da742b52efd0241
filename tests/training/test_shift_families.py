"""The shift experiment's family comparisons (training/sweeps/shift_families.py), against references from the equations."""

import json
import statistics

import numpy as np
import pytest

from constrained_zoo.training import readme, shift
from constrained_zoo.training.sweeps import shift_families


def _records(models):
    """Records as `training.shift` writes them, from `{model: (family, {seed: {shift: accuracy}})}`."""
    return [{"model": m, "family": family, "params": 10, "trainable_params": 10, "seed": seed, "shift": s,
             "test_accuracy": a}
            for m, (family, seeds) in models.items() for seed, by_shift in seeds.items() for s, a in by_shift.items()]


def test_a_models_change_is_its_mean_over_seeds_of_each_runs_own_change():
    models = shift_families.model_changes(_records({
        "a": ("mlp", {0: {0: 0.90, 1: 0.80, 2: 0.50}, 1: {0: 0.92, 1: 0.86, 2: 0.60}}),
        "b": ("mlp", {0: {0: 0.70, 1: 0.69, 2: 0.60}, 1: {0: 0.71, 1: 0.70}}),  # seed 1 lacks 2 px: left out
    }), [1, 2])
    assert models["a"]["seeds"] == 2 and models["b"]["seeds"] == 1
    assert models["a"]["change"][1] == pytest.approx(statistics.fmean([-10, -6]))
    assert models["a"]["change"][2] == pytest.approx(statistics.fmean([-40, -32]))
    assert models["b"]["change"][2] == pytest.approx(-10)
    assert models["a"]["accuracy"][2] == pytest.approx(0.55)


def test_no_run_with_every_shift_is_named():
    with pytest.raises(ValueError, match=r"`shifts`.*\[0, 3\]"):
        shift_families.model_changes(_records({"a": ("mlp", {0: {0: 0.9, 1: 0.8}})}), [3])


def _welch_reference(a, b, level):
    """Welch's interval written out: the Welch-Satterthwaite degrees of freedom and scipy's t quantile."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    se2a, se2b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (se2a + se2b) ** 2 / (se2a ** 2 / (a.size - 1) + se2b ** 2 / (b.size - 1))
    half = stats.t.ppf(0.5 + level / 2, df) * np.sqrt(se2a + se2b)
    d = a.mean() - b.mean()
    return d, d - half, d + half, df


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_welch_matches_the_equations_and_scipy(level):
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = list(rng.normal(2.0, 1.0, 5)), list(rng.normal(0.0, 3.0, 8))
    got = shift_families.welch(a, b, level)
    assert got == pytest.approx(_welch_reference(a, b, level))
    scipy_interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    assert got[1:3] == pytest.approx((scipy_interval.low, scipy_interval.high))


def test_welch_needs_two_models_a_side_and_a_spread():
    assert shift_families.welch([1.0], [0.0, 2.0])[1:] == (None, None, None)
    assert shift_families.welch([1.0, 1.0], [0.0, 0.0])[:3] == (1.0, 1.0, 1.0)


def _family(name, changes, base=0.9):
    return {f"{name}{i}": (name, {0: {0: base, 1: base + c / 100}, 1: {0: base, 1: base + c / 100}})
            for i, c in enumerate(changes)}


def test_the_verdict_names_who_loses_less_or_says_not_resolved():
    models = shift_families.model_changes(_records({
        **_family("locally_connected", [-5, -6, -5.5]), **_family("fully_connected", [-8, -8.5, -7.9]),
        **_family("shared_conv", [-3, -9, -1]),
    }), [1])
    clear = shift_families.comparison(models, "locally_connected", "fully_connected", 1)
    assert clear["verdict"] == "locally_connected loses less" and clear["low"] > 0
    assert clear["difference"] == pytest.approx(statistics.fmean([-5, -6, -5.5]) - statistics.fmean([-8, -8.5, -7.9]))
    assert shift_families.comparison(models, "fully_connected", "locally_connected", 1)["verdict"] == \
        "fully_connected loses more"
    wide = shift_families.comparison(models, "shared_conv", "locally_connected", 1)
    assert wide["verdict"] == "not resolved" and wide["low"] < 0 < wide["high"]
    accurate = shift_families.comparison(models, "locally_connected", "fully_connected", 1, measure="accuracy")
    assert accurate["verdict"] == "locally_connected is more accurate"


def test_bad_arguments_are_named():
    models = shift_families.model_changes(_records(_family("mlp", [-1, -2])), [1])
    with pytest.raises(ValueError, match="`measure`.*'loss'"):
        shift_families.comparison(models, "mlp", "mlp", 1, measure="loss")
    with pytest.raises(ValueError, match="'cnn'.*mlp"):
        shift_families.comparison(models, "cnn", "mlp", 1)
    with pytest.raises(ValueError, match=r"a pair is 'A-B' .*received 'a-b-c' in 'mlp-cnn,a-b-c'"):
        shift_families.parse_pairs("mlp-cnn,a-b-c")
    assert shift_families.parse_pairs("locally_connected-mlp") == [("locally_connected", "mlp")]


def test_the_block_reads_the_runs_shift_json(tmp_path):
    """The generated block from a results folder without weights: every model's `shift.json` and `results.json`."""
    for model, family, changes in (("lc_a", "locally_connected", (-5.0, -6.0)), ("lc_b", "locally_connected", (-5.6, -5.0)),
                                   ("fc_a", "fully_connected", (-8.0, -8.4)), ("fc_b", "fully_connected", (-7.8, -8.6))):
        for seed, change in enumerate(changes):
            run = tmp_path / "runs" / model / f"seed{seed}"
            run.mkdir(parents=True)
            (run / "results.json").write_text(json.dumps({
                "model": model, "family": family, "seed": seed, "test_accuracy": 0.9, "params": 100,
                "trainable_params": 100, "epochs": 1, "num_train": 10}))
            shift.store_shifts(str(run), {0: 0.9, 1: 0.9 + change / 100})
    text = readme.generate_block(f"shift_families {tmp_path} 1 locally_connected-fully_connected", root="/")
    [row] = [line for line in text.splitlines() if line.startswith("| locally_connected − fully_connected | change at 1 px")]
    expected = statistics.fmean([-5.5, -5.3]) - statistics.fmean([-8.2, -8.2])
    assert f"| {expected:+.1f} |" in row and row.endswith("| locally_connected loses less |")
    assert "| locally_connected | 2 | -5.4 (-5.5 to -5.3) | 84.6 (84.5 to 84.7) |" in text
    with pytest.raises(readme.ReadmeError, match=r"a pair is 'A-B' .*received 'lc-fc-x'"):
        readme.generate_block(f"shift_families {tmp_path} 1 lc-fc-x", root="/")


"""Paired differences between models of one results folder, checked against scipy."""

import json

import numpy as np
import pytest
from scipy import stats

from constrained_zoo.training.sweeps import claims


def _run(root, model, seed, test, model_args=None, epochs=5):
    folder = model + ("-" + "_".join(f"{k}{v}" for k, v in model_args.items()) if model_args else "")
    run = root / "runs" / folder / f"seed{seed}"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"model": model, "family": "mlp", "seed": seed,
                                                  "test_accuracy": test, "params": 10, "trainable_params": 10}))
    args = {"model": model, "seed": seed, "epochs": epochs, "model_args": model_args or {}}
    (run / "config.json").write_text(json.dumps({"args": args}))


def test_differences_are_paired_by_seed_with_a_t_interval(tmp_path):
    a, b, c = (0.80, 0.84, 0.81), (0.60, 0.61, 0.62), (0.79, 0.86, 0.80)
    for seed in range(3):
        _run(tmp_path, "lc_small", seed, a[seed])
        _run(tmp_path, "mlp_small", seed, b[seed])
        _run(tmp_path, "cnn_small", seed, c[seed], model_args={"width": 2})
    text = claims.differences(str(tmp_path), claims.parse_pairs("lc_small-mlp_small,cnn_small(width=2)-lc_small"))
    diffs = 100 * (np.array(a) - np.array(b))
    low, high = stats.t.interval(0.95, 2, loc=diffs.mean(), scale=stats.sem(diffs))
    assert f"| lc_small − mlp_small | 3 | {diffs.mean():+.1f} | [{low:+.1f}, {high:+.1f}] | lc_small ahead |" in text
    assert "| cnn_small(width=2) − lc_small | 3 | +0.0 |" in text and text.count("not resolved") == 1
    assert text.rstrip().endswith(f"Resolved: 1 of 2: lc_small ahead (lc_small − mlp_small {diffs.mean():+.1f} points).")


def test_only_common_seeds_pair_and_one_seed_has_no_interval(tmp_path):
    _run(tmp_path, "a", 0, 0.9)
    _run(tmp_path, "a", 1, 0.8)
    _run(tmp_path, "b", 1, 0.7)
    assert "| a − b | 1 | +10.0 | — | one seed: no interval |" in claims.differences(str(tmp_path), [("a", "b")])


@pytest.mark.parametrize("pairs, message", [
    ("a-b-c", "a pair is 'A-B' (two labels without '-'); received 'a-b-c'"),
    ("a-", "received 'a-'"),
])
def test_malformed_pairs_are_named(pairs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        claims.parse_pairs(pairs)


def test_unknown_labels_and_mixed_recipes_are_refused(tmp_path):
    _run(tmp_path, "a", 0, 0.9)
    _run(tmp_path, "b", 0, 0.7)
    with pytest.raises(ValueError, match=r"no finished runs labelled 'c'; it has \['a', 'b'\]"):
        claims.differences(str(tmp_path), [("a", "c")])
    run = tmp_path / "runs" / "a" / "seed1"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"model": "a", "family": "mlp", "seed": 1, "test_accuracy": 0.5,
                                                  "params": 10, "trainable_params": 10}))
    (run / "config.json").write_text(json.dumps({"args": {"model": "a", "seed": 1, "epochs": 50}}))
    with pytest.raises(ValueError, match="'a' has runs of 2 recipes; compare within one"):
        claims.differences(str(tmp_path), [("a", "b")])


def test_runs_of_several_folders_pair_when_their_recipes_agree(tmp_path):
    for seed in range(2):
        _run(tmp_path / "one", "a", seed, 0.9 - seed / 100)
        _run(tmp_path / "two", "b", seed, 0.7)
    text = claims.differences([str(tmp_path / "one"), str(tmp_path / "two")], [("a", "b")])
    assert "| a − b | 2 | +19.5 |" in text
    _run(tmp_path / "two", "a", 5, 0.5, epochs=50)  # the same label trained to another recipe
    with pytest.raises(ValueError, match="'a' has runs of 2 recipes"):
        claims.differences([str(tmp_path / "one"), str(tmp_path / "two")], [("a", "b")])


def _full_run(root, model, family, seed, test, val, params, epochs=5):
    run = root / "runs" / model / f"seed{seed}"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({
        "model": model, "family": family, "seed": seed, "test_accuracy": test, "best_val_accuracy": val,
        "params": params, "trainable_params": params - 2, "epochs": epochs, "num_train": 100,
        "wall_time_seconds": 1.0}))
    (run / "config.json").write_text(json.dumps({"args": {"model": model, "seed": seed, "epochs": epochs},
                                                 "git": {"commit": "a" * 40, "dirty": False}}))


def test_a_target_takes_the_model_of_best_validation_within_the_budget_never_of_best_test(tmp_path):
    table, other = tmp_path / "table", tmp_path / "augment"
    for seed, (test, val) in enumerate([(0.95, 0.80), (0.96, 0.81)]):  # best test, worse validation
        _full_run(table, "big_test", "mlp", seed, test, val, 9_000)
    for seed, (test, val) in enumerate([(0.91, 0.90), (0.89, 0.92)]):
        _full_run(other, "best_val", "cnn", seed, test, val, 9_500)
    for seed in range(2):
        _full_run(table, "too_big", "cnn", seed, 0.99, 0.99, 10_001)
    text = claims.targets([str(table), str(other)], claims.parse_targets("0.9@10000,0.95@10000:mlp"),
                          names=["table", "augment"])
    low, high = stats.t.interval(0.95, 1, loc=0.90, scale=stats.sem([0.91, 0.89]))
    assert (f"| ≥ 0.9 with ≤ 10,000 weights | best_val | augment | 9,500 (9,498) | 0.9100 | 0.9000 ± 0.0141 | "
            f"[{low:.4f}, {high:.4f}] | 2 | yes |") in text
    assert "| ≥ 0.95 with ≤ 10,000 weights, mlp | big_test | table | 9,000 (8,998) | 0.8050 | 0.9550 ± 0.0071 |" in text
    assert "| yes |" in text.splitlines()[3] and "†" not in text


def test_a_target_missed_says_no_and_bad_targets_are_named(tmp_path):
    for seed in range(2):
        _full_run(tmp_path, "m", "mlp", seed, 0.8, 0.8, 100)
    assert "| **no** |" in claims.targets(str(tmp_path), [(0.9, 1000, None)])
    with pytest.raises(ValueError, match="no model within 10 weights"):
        claims.targets(str(tmp_path), [(0.9, 10, None)])
    for bad in ("0.9", "2@100", "0.9@x", "0.9@100:"):
        with pytest.raises(ValueError, match=f"a target is 'ACCURACY@WEIGHTS\\[:FAMILY\\]'.*received '{bad}'"):
            claims.parse_targets(bad)

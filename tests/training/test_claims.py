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

"""Harvesting a sweep's runs into a results folder (training/publishing/harvest.py), with real files and processes."""

import json
import os
import subprocess
import sys

import pytest

from constrained_zoo.training.publishing import harvest
from tests.training import cli


def _run(folder, model, seed, accuracy, finished=True):
    run = folder / "runs" / model / f"seed{seed}"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"args": {"model": model, "seed": seed}, "git": {"commit": "a" * 40}}))
    (run / "history.csv").write_text("epoch,val_accuracy\n0,0.5\n")
    (run / "model.keras").write_bytes(b"weights: never harvested")
    (run / "checkpoints").mkdir()
    if finished:
        (run / "results.json").write_text(json.dumps({"model": model, "seed": seed, "test_accuracy": accuracy}))
        (run / "shift.json").write_text(json.dumps({"shift_accuracy": {"0": accuracy}}))
    return run


def _recipe(folder, **recipe):
    (folder / "recipe.json").write_text(json.dumps({"epochs": 20, "title": "a title", **recipe}))


def test_a_models_runs_replace_its_old_seeds_records_only(tmp_path):
    sweep, results = tmp_path / "sweep", tmp_path / "results"
    for seed in (0, 1):
        _run(sweep, "cnn", seed, 0.9 + seed / 100)
    _run(sweep, "mlp", 0, 0.8)
    for seed in (0, 1, 2):
        _run(results, "cnn", seed, 0.5)  # the old seeds: all go
    _run(results, "lc", 0, 0.7)  # another model: stays
    _recipe(sweep, title="another title")  # the title is prose: the same recipe
    _recipe(results)
    done = harvest.harvest(str(sweep), str(results), ["cnn"])
    assert done == {"cnn": {"seeds": ["seed0", "seed1"], "published": None}}
    assert sorted(os.listdir(results / "runs")) == ["cnn", "lc"]
    for seed in (0, 1):
        kept = results / "runs" / "cnn" / f"seed{seed}"
        assert sorted(os.listdir(kept)) == ["config.json", "history.csv", "results.json", "shift.json"]
        assert cli.read_json(kept / "results.json")["test_accuracy"] == 0.9 + seed / 100
    assert cli.read_json(results / "runs" / "lc" / "seed0" / "results.json")["test_accuracy"] == 0.7
    # Without --models: every model whose runs have all finished.
    assert list(harvest.harvest(str(sweep), str(results))) == ["cnn", "mlp"]
    assert not [n for n in os.listdir(results / "runs") if n.startswith(".")]  # nothing staged is left


def test_what_cannot_be_harvested_is_refused_before_anything_is_written(tmp_path):
    sweep, results = tmp_path / "sweep", tmp_path / "results"
    _run(sweep, "cnn", 0, 0.9)
    _run(sweep, "cnn", 1, 0.9, finished=False)
    _run(sweep, "mlp", 0, 0.8)
    with pytest.raises(harvest.HarvestError, match=r"still training \(no results\.json\): \{'cnn': \['seed1'\]\}"):
        harvest.harvest(str(sweep), str(results), ["cnn"])
    with pytest.raises(harvest.HarvestError, match=r"--models: \['nope'\] not under .*it holds cnn, mlp"):
        harvest.harvest(str(sweep), str(results), ["nope"])
    with pytest.raises(harvest.HarvestError, match=r"--publish-seed 3: \['mlp'\] have no finished seed3"):
        harvest.harvest(str(sweep), str(results), ["mlp"], publish_seed=3)
    _recipe(sweep, epochs=40)
    results.mkdir()
    _recipe(results)
    _run(results, "lc", 0, 0.7)  # a model this harvest would leave, of the folder's recipe
    with pytest.raises(harvest.HarvestError, match=r"another recipe .* differ in \['epochs'\]"):
        harvest.harvest(str(sweep), str(results), ["mlp"])
    with pytest.raises(harvest.HarvestError, match="has no runs/ folder"):
        harvest.harvest(str(tmp_path / "empty"), str(results))
    assert sorted(os.listdir(results / "runs")) == ["lc"]


def test_a_folder_whose_every_model_is_replaced_takes_the_sweeps_recipe(tmp_path):
    sweep, results = tmp_path / "sweep", tmp_path / "results"
    _run(sweep, "cnn", 0, 0.9)
    _run(results, "cnn", 0, 0.5)
    results.mkdir(exist_ok=True)
    _recipe(sweep, epochs=40, validation_points=None)  # e.g. a setting added since the folder's runs
    _recipe(results)
    harvest.harvest(str(sweep), str(results))
    assert cli.read_json(results / "recipe.json") == cli.read_json(sweep / "recipe.json")


def test_the_command_says_what_it_did_and_refuses_plainly(tmp_path):
    sweep, results = tmp_path / "sweep", tmp_path / "results"
    _run(sweep, "cnn", 0, 0.9)
    _recipe(sweep)
    command = [sys.executable, "-m", "constrained_zoo.training.publishing.harvest", str(sweep), str(results)]
    done = subprocess.run(command, cwd=cli.REPO, env=cli.ENV, capture_output=True, text=True, timeout=cli.TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert f"cnn: 1 run(s) into {results / 'runs' / 'cnn'}" in done.stdout and "next: python -m" in done.stdout
    assert cli.read_json(results / "recipe.json") == cli.read_json(sweep / "recipe.json")  # a new folder gets the recipe
    refused = subprocess.run([*command, "--models", "lc"], cwd=cli.REPO, env=cli.ENV, capture_output=True, text=True,
                             timeout=cli.TIMEOUT)
    assert refused.returncode == 2 and "error: Invalid value for --models: ['lc']" in refused.stderr

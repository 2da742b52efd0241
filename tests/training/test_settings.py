"""training/settings.py: one declaration of a setting reaches every surface.

A setting added to `settings.SETTINGS` alone (nothing else edited) is found
in the train and sweep parsers, the command a sweep gives each run, a run's
config.json `args`, the folder's recipe.json, resume's refusal, the command
that reproduces a published run, and the report's grouping.
"""

import json
import os
import shlex

import pytest

from tests.training import cli
from constrained_zoo.training import settings, sweep, train
from constrained_zoo.training.run import rundir
from constrained_zoo.training.sweeps import results, scheduler

NEW = settings.Setting("mixup", "recipe", 0.0, "mixup's alpha (a setting added by the test)", type=float,
                       missing_means=0.0)


@pytest.fixture
def with_new_setting(monkeypatch):
    monkeypatch.setattr(settings, "SETTINGS", [*settings.SETTINGS, NEW])


def _values(parser, argv):
    args = vars(parser.parse_args(argv))
    return settings.normalized({s.name: args[s.name] for s in settings.SETTINGS if s.name in args})


def test_a_new_setting_reaches_every_surface(with_new_setting, tmp_path):
    # the parsers
    values = _values(train.build_parser(), ["--model", "cnn_small", "--mixup", "0.2"])
    assert values["mixup"] == 0.2
    swept = _values(sweep.build_parser(), ["--out", str(tmp_path), "--mixup", "0.2"])
    assert swept["mixup"] == 0.2
    # the sweep's command for a run, parsed back by train
    command = scheduler.Sweep(swept, str(tmp_path), []).command(scheduler.Run(1, 1, "cnn_small", 0, "r"))
    assert _values(train.build_parser(), command[3:])["mixup"] == 0.2
    # config.json's args, recipe.json, the reproduction command
    assert settings.recorded(values)["mixup"] == 0.2
    scheduler.claim_recipe(tmp_path, swept, None)
    assert cli.read_json(tmp_path / "recipe.json")["mixup"] == 0.2
    assert "--mixup 0.2" in settings.train_command(values)
    assert "--mixup" not in settings.train_command({**values, "mixup": 0.0})  # at its default: left out
    # resume: a run from before the setting meant its missing_means value; another value is refused
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    old = {k: v for k, v in values.items() if k != "mixup"}
    (run_dir / "config.json").write_text(json.dumps({"args": old}))
    assert rundir.check_run_dir(str(run_dir), {**values, "mixup": 0.0}, resume=True, overwrite=False) == old
    with pytest.raises(rundir.UsageError, match=r"these differ: mixup: 0.0 -> 0.2"):
        rundir.check_run_dir(str(run_dir), values, resume=True, overwrite=False)


def test_the_report_never_averages_runs_that_differ_in_a_new_setting(with_new_setting, tmp_path):
    base = {"model": "cnn_small", "family": "multi_channel_conv", "trainable_params": 10, "epochs": 1,
            "num_train": 5, "wall_time_seconds": 1.0, "best_val_accuracy": 0.5}
    for seed, mixup, accuracy in ((0, 0.0, 0.5), (1, 0.2, 0.7)):
        run_dir = tmp_path / "runs" / f"r{seed}"
        run_dir.mkdir(parents=True)
        (run_dir / "results.json").write_text(json.dumps({**base, "seed": seed, "test_accuracy": accuracy}))
        (run_dir / "config.json").write_text(json.dumps({"args": {"model": "cnn_small", "seed": seed, "mixup": mixup}}))
    rows = results.summarize(results.collect(tmp_path / "runs"))
    assert sorted((r["label"], r["test_accuracy_mean"]) for r in rows) == [
        ("cnn_small [recipe 1]", 0.5), ("cnn_small [recipe 2]", 0.7)]
    assert "mixup=0.2" in results.to_markdown(rows)


def test_every_setting_is_declared_once_with_a_known_kind():
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))
    assert {s.kind for s in settings.SETTINGS} <= set(settings.KINDS)
    options = [s.option for s in settings.SETTINGS]
    assert len(options) == len(set(options))


def test_one_meaning_of_recipe():
    """The report's grouping, recipe.json and resume use the same settings."""
    recipe = set(settings.recipe_of({}))
    assert recipe == {s.name for s in settings.SETTINGS if s.kind == "recipe"}
    resumed_fixed = {s.name for s in settings.SETTINGS if s.kind != "execution"} - {"epochs"}
    changed = {name: "x" for name in resumed_fixed}
    assert set(settings.resume_conflicts({}, changed)) == resumed_fixed


def test_reproduction_commands_read_as_the_manifest_has_them():
    """Every command in the shipped manifest is what train_command makes of its run's settings."""
    from constrained_zoo import models

    for entry in models.published_weights():
        words = shlex.split(entry["command"])
        assert words[:3] == ["python", "-m", "constrained_zoo.training.train"], entry["command"]
        args = train.build_parser().parse_args(words[3:])  # every flag still exists
        values = settings.values_of(args, "train")
        assert settings.train_command(values) == entry["command"], entry["model"]


def test_execution_settings_do_not_make_another_recipe():
    values = settings.completed({"model": "m"})
    faster = {**values, "jit_compile": True, "steps_per_execution": 8, "deterministic": False, "data_dir": os.sep}
    assert settings.recipe_differences(values, faster) == {}
    assert settings.applied_changes(values, faster) == {
        "jit_compile": [False, True], "steps_per_execution": [1, 8], "deterministic": [True, False],
        "data_dir": [None, os.sep]}

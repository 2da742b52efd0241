"""`SplitSettings`: the settings that fix a run's split, one object from the command to the pipeline and back."""

import dataclasses
import json

import numpy as np
import pytest

from constrained_zoo.training import settings, train
from constrained_zoo.training.publishing import publish
from constrained_zoo.training.data import SplitSettings
from constrained_zoo.training.data import split as split_module


def test_the_defaults_are_the_settings_tables():
    default = SplitSettings()
    for name in SplitSettings.fields():
        assert getattr(default, name) == settings.by_name(name).default, name
    assert set(SplitSettings.TRAINING) < set(SplitSettings.fields())
    assert "shift" not in SplitSettings.TRAINING  # the test images only: a teacher may differ


def test_round_trip_through_a_runs_config_json(tmp_path):
    argv = ["--model", "cnn_small", "--dataset", "digits", "--seed", "3", "--validation-fraction", "0.2",
            "--max-train-examples", "500", "--pixel-shuffle", "--shift", "-2", "--epochs", "4"]
    values = settings.values_of(train.build_parser().parse_args(argv), "train")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"args": settings.recorded(values)}))  # as training.run.fit writes it
    split = SplitSettings.from_config(json.loads(path.read_text())["args"])
    assert split == SplitSettings("digits", validation_fraction=0.2, max_train_examples=500, seed=3,
                                  pixel_shuffle=True, shift=-2)
    assert SplitSettings.from_config(json.loads(json.dumps(split.get_config()))) == split
    assert list(split.get_config()) == list(SplitSettings.fields())


def test_an_old_config_gets_what_a_missing_setting_meant(monkeypatch):
    split = SplitSettings.from_config({"dataset": "mnist1d", "seed": 1})
    assert split == SplitSettings("mnist1d", seed=1)
    # What a missing key means is the settings table's `missing_means`, not the default: prove it with a fake one.
    real = settings.by_name

    def by_name(name):
        found = real(name)
        return dataclasses.replace(found, missing_means=7) if name == "shift" else found

    monkeypatch.setattr(settings, "by_name", by_name)
    assert SplitSettings.from_config({"dataset": "mnist1d"}).shift == 7
    assert SplitSettings.from_config({"dataset": "mnist1d", "shift": 0}).shift == 0


def test_numpy_values_become_plain_json_values():
    split = SplitSettings("digits", seed=np.int64(4), max_train_examples=np.int32(10), shift=np.int16(-1))
    assert type(split.seed) is type(split.max_train_examples) is type(split.shift) is int
    json.dumps(split.get_config())


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dataset=None), TypeError, "argument `dataset`.*Received: dataset=None"),
    (dict(dataset=""), TypeError, "argument `dataset`.*Received: dataset=''"),
    (dict(validation_fraction=1.0), ValueError, r"argument `validation_fraction`.*\[0, 1\).*Received: validation_fraction=1.0"),
    (dict(validation_fraction=-0.1), ValueError, "argument `validation_fraction`.*Received: validation_fraction=-0.1"),
    (dict(validation_fraction="0.1"), ValueError, "argument `validation_fraction`.*Received: validation_fraction='0.1'"),
    (dict(validation_fraction=True), ValueError, "argument `validation_fraction`.*Received: validation_fraction=True"),
    (dict(max_train_examples=0), ValueError, "argument `max_train_examples`.*>= 1.*Received: max_train_examples=0"),
    (dict(max_train_examples=2.5), TypeError, "argument `max_train_examples`.*Received: max_train_examples=2.5"),
    (dict(seed=-1), ValueError, "argument `seed`.*>= 0.*Received: seed=-1"),
    (dict(seed=True), TypeError, "argument `seed`.*Received: seed=True"),
    (dict(pixel_shuffle="yes"), TypeError, "argument `pixel_shuffle`.*Received: pixel_shuffle='yes'"),
    (dict(shift=1.5), TypeError, "argument `shift`.*Received: shift=1.5"),
])
def test_bad_values_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        SplitSettings(**kwargs)
    with pytest.raises(error, match=match):  # a config.json holding it says the same
        SplitSettings.from_config(kwargs)


def test_from_config_wants_a_mapping():
    with pytest.raises(TypeError, match="argument `config`.*Received: config=None"):
        SplitSettings.from_config(None)


def test_differences_name_what_two_splits_disagree_on():
    student, teacher = SplitSettings("mnist1d", seed=1, shift=3), SplitSettings("mnist1d", seed=0)
    assert teacher.differences(student) == {"seed": (0, 1), "shift": (0, 3)}
    assert teacher.differences(student, SplitSettings.TRAINING) == {"seed": (0, 1)}
    with pytest.raises(TypeError, match="argument `other`"):
        teacher.differences(student.get_config())


def test_split_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SplitSettings().seed = 1


def test_publish_rechecks_an_old_runs_split_at_what_it_meant(monkeypatch, tmp_path):
    """A config.json from before `validation_fraction`, `pixel_shuffle` and `shift`: evaluated as trained."""
    seen = {}

    def count_correct(model, evaluation, data_dir=None):
        seen.update(evaluation)
        return 90, 100

    monkeypatch.setattr("constrained_zoo.training.evaluate.count_correct", count_correct)
    old_args = {"model": "cnn_small", "dataset": "digits", "batch_size": 64, "seed": 2}
    _, _, evaluation = publish.recheck(None, tmp_path, old_args, {"test_accuracy": 0.9})
    assert evaluation == seen == {"dataset": "digits", "batch_size": 64, "validation_fraction": 0.1, "seed": 2,
                                  "pixel_shuffle": False, "shift": 0}
    assert SplitSettings.from_config(evaluation) == SplitSettings("digits", seed=2)


def test_the_checks_are_shared_with_the_pipeline():
    assert split_module.check_int(np.int64(3), "batch_size", 1) == 3
    with pytest.raises(ValueError, match="argument `batch_size`.*Received: batch_size=0"):
        split_module.check_int(0, "batch_size", 1)
    with pytest.raises(TypeError, match="argument `flip`.*Received: flip=1"):
        split_module.check_bool(1, "flip")


def test_the_shift_experiment_reads_the_split_of_a_runs_config(tmp_path):
    from constrained_zoo.training import shift

    (tmp_path / "config.json").write_text(json.dumps({"args": {"dataset": "digits", "pixel_shuffle": True}}))
    with pytest.raises(ValueError, match="trained or tested on a variant"):
        shift.evaluate_shifts(str(tmp_path), [0])
    (tmp_path / "config.json").write_text(json.dumps({"args": {"dataset": "digits"}}))  # an old config: a plain run
    with pytest.raises(OSError, match="saved_model"):  # past the check, to the run's SavedModel
        shift.evaluate_shifts(str(tmp_path), [0])

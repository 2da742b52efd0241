"""Knowledge distillation (`--teacher`): the loss against its equation, the pipeline, the CLI end to end.

The loss is checked against numpy written from Hinton et al.'s formula; the
pipeline's teacher targets against the teacher called on the very batches
an undistilled pipeline yields; the CLI with a real teacher run on digits
(a student, its resume, and the errors a user can make).
"""

import json
import shutil

import numpy as np
import pytest

from tests.training import cli
from constrained_zoo.training import train as train_module
from constrained_zoo.training.data import SplitSettings, load_dataset

pytestmark = pytest.mark.tensorflow_only

TEACHER = ("--model", "cnn_small", "--dataset", "digits", "--epochs", 2, "--verbose", 0)
STUDENT = ("--model", "mlp_small", "--dataset", "digits", "--batch-size", 64, "--augment", "--verbose", 0)


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def distillation_reference(labels, student, teacher, temperature, weight, smoothing=0.0):
    """Hinton et al. (2015): (1 - w)·CE(labels) + w·T²·KL(softmax(t/T) || softmax(s/T)), batch mean."""
    k = student.shape[-1]
    targets = (1 - smoothing) * np.eye(k)[labels] + smoothing / k
    hard = -(targets * _log_softmax(student)).sum(-1)
    p = np.exp(_log_softmax(teacher / temperature))
    kl = (p * (np.log(p) - _log_softmax(student / temperature))).sum(-1)
    return ((1 - weight) * hard + weight * temperature ** 2 * kl).mean()


@pytest.mark.parametrize("temperature, weight, smoothing", [(1.0, 0.5, 0.0), (4.0, 0.9, 0.0), (2.0, 0.3, 0.1),
                                                            (3.0, 1.0, 0.0), (2.0, 0.0, 0.0)])
def test_distillation_loss_equals_the_equation(temperature, weight, smoothing):
    import keras

    from constrained_zoo.training.run.losses import DistillationLoss

    rng = np.random.default_rng(0)
    labels = np.array([0, 3, 1, 2, 2, 0])
    student, teacher = (3 * rng.normal(size=(6, 4))).astype(np.float32), (3 * rng.normal(size=(6, 4))).astype(
        np.float32)
    targets = np.concatenate([labels[:, None].astype(np.float32), teacher], axis=1)  # (B, 1 + K)
    loss = DistillationLoss(temperature, weight, label_smoothing=smoothing)
    expected = distillation_reference(labels, student, teacher, temperature, weight, smoothing)
    assert float(loss(targets, student)) == pytest.approx(expected, rel=1e-5)
    # Validation and test targets (labels alone) give the labels' cross-entropy alone, whatever the weight.
    hard_only = distillation_reference(labels, student, teacher, temperature, 0.0, smoothing)
    assert float(loss(labels, student)) == pytest.approx(hard_only, rel=1e-5)
    assert float(loss(labels[:, None], student)) == pytest.approx(hard_only, rel=1e-5)
    again = keras.losses.deserialize(keras.losses.serialize(loss))  # what model.keras keeps for --resume
    assert float(again(targets, student)) == pytest.approx(expected, rel=1e-5)


def test_a_student_equal_to_its_teacher_pays_only_the_labels_term():
    from constrained_zoo.training.run.losses import DistillationLoss

    logits = np.array([[2.0, -1.0, 0.5]], np.float32)
    targets = np.array([[2.0, 2.0, -1.0, 0.5]], np.float32)
    expected = 0.25 * -_log_softmax(logits)[0, 2]
    assert float(DistillationLoss(5.0, 0.75)(targets, logits)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("kwargs, message", [({"temperature": 0}, "temperature=0"),
                                             ({"temperature": True}, "temperature=True"),
                                             ({"weight": 1.5}, "weight=1.5"),
                                             ({"label_smoothing": 1.0}, "label_smoothing=1.0")])
def test_distillation_loss_refuses_bad_arguments(kwargs, message):
    from constrained_zoo.training.run.losses import DistillationLoss

    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        DistillationLoss(**kwargs)


def test_label_accuracy_reads_the_label_column():
    from constrained_zoo.training.run.losses import LabelAccuracy

    logits = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], np.float32)
    metric = LabelAccuracy()
    metric.update_state(np.array([[1, 9, -9], [1, 9, -9], [0, 0, 0]], np.float32), logits)  # right, wrong, right
    assert metric.name == "accuracy" and float(metric.result()) == pytest.approx(2 / 3)
    metric.reset_state()
    metric.update_state(np.array([1, 1, 0]), logits)  # labels alone (validation)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_the_pipeline_sends_the_teachers_logits_of_each_augmented_batch():
    import tensorflow as tf

    kernel = tf.constant(np.random.default_rng(1).normal(size=(64, 10)), tf.float32)

    def teacher(images):  # a fixed linear "teacher" of the flattened images
        return tf.reshape(images, (-1, 64)) @ kernel

    common = dict(batch_size=50, augment=True, flip=True, epochs=2)
    split = SplitSettings("digits", seed=3)
    (plain, _), (taught, spec) = load_dataset(split, **common), load_dataset(split, teacher=teacher, **common)
    batches = 0
    for (x, y), (x_t, y_t) in zip(plain.train, taught.train):
        assert y_t.shape == (x.shape[0], 1 + spec.num_classes) and y_t.dtype == tf.float32
        np.testing.assert_array_equal(x_t.numpy(), x.numpy())  # the same batches, the same augmentation
        np.testing.assert_array_equal(y_t[:, 0].numpy(), y.numpy())
        np.testing.assert_allclose(y_t[:, 1:].numpy(), teacher(x).numpy(), rtol=1e-5, atol=1e-5)
        batches += 1
    assert batches == 2 * -(-spec.num_train // 50)
    for split in ("validation", "test"):
        (_, y), (_, y_t) = next(iter(getattr(plain, split))), next(iter(getattr(taught, split)))
        np.testing.assert_array_equal(y_t.numpy(), y.numpy())  # labels alone
    with pytest.raises(TypeError, match="teacher='soft'"):
        load_dataset("digits", teacher="soft")


# ------------------------------------------------------------- the CLI
@pytest.fixture(scope="module")
def teacher_runs(tmp_path_factory):
    """Two finished teacher runs on digits, seeds 0 and 1, in a sweep-like folder."""
    root = tmp_path_factory.mktemp("teachers")
    for seed in (0, 1):
        cli.check(cli.train(root / f"seed{seed}", *TEACHER, "--seed", seed))
    return root


def test_a_student_learns_from_its_seeds_teacher_and_resumes_exactly(teacher_runs, tmp_path):
    import keras

    from constrained_zoo.training.run.losses import DistillationLoss

    template = str(teacher_runs / "seed{seed}")
    taught = (*STUDENT, "--seed", 1, "--teacher", template, "--distill-temperature", 3, "--distill-weight", 0.7)
    whole, split = tmp_path / "whole", tmp_path / "split"
    cli.check(cli.train(whole, *taught, "--epochs", 2))
    cli.check(cli.train(split, *taught, "--epochs", 1))
    cli.check(cli.train(split, *taught, "--epochs", 2, "--resume"))  # the teacher is loaded again, same targets
    assert cli.read_history(split) == cli.read_history(whole)
    args = cli.read_json(whole / "config.json")["args"]
    assert (args["teacher"], args["distill_temperature"], args["distill_weight"]) == (template, 3.0, 0.7)
    history = cli.read_history(whole)
    assert {"accuracy", "val_accuracy", "loss", "val_loss"} <= set(history[0])
    model = keras.saving.load_model(whole / "model.keras")
    assert isinstance(model.loss, DistillationLoss) and (model.loss.temperature, model.loss.weight) == (3.0, 0.7)
    assert "LabelAccuracy" in json.dumps(model.get_compile_config()["metrics"])
    results = cli.read_json(whole / "results.json")
    assert 0.1 < results["test_accuracy"] <= 1  # evaluated on labels alone (10 classes: chance is 0.1)
    assert cli.evaluate(whole).returncode == 0  # the SavedModel serves without the teacher or our code

    # Without a teacher, the same student trains on the labels alone: the loss differs, the data does not.
    plain = tmp_path / "plain"
    cli.check(cli.train(plain, *STUDENT, "--seed", 1, "--epochs", 1))
    assert cli.read_history(plain)[0]["loss"] != cli.read_history(split)[0]["loss"]


def run_main(argv, capsys):
    code = train_module.main([str(a) for a in argv])
    return code, " ".join(capsys.readouterr().err.split())


def test_a_teacher_of_another_split_is_refused(teacher_runs, tmp_path, capsys):
    code, err = run_main([*STUDENT, "--seed", 1, "--teacher", teacher_runs / "seed0", "--out", tmp_path / "s"],
                         capsys)
    assert code == 2 and "another split" in err and "seed 0 (this run: 1)" in err and "{seed}" in err
    assert not (tmp_path / "s").exists()  # nothing written
    other = tmp_path / "other_data"
    shutil.copytree(teacher_runs / "seed0", other)
    config = cli.read_json(other / "config.json")
    config["args"]["validation_fraction"] = 0.2
    (other / "config.json").write_text(json.dumps(config))
    code, err = run_main([*STUDENT, "--teacher", other, "--out", tmp_path / "s"], capsys)
    assert code == 2 and "validation_fraction 0.2 (this run: 0.1)" in err


def test_a_teacher_that_is_not_a_finished_run_is_refused(teacher_runs, tmp_path, capsys):
    code, err = run_main([*STUDENT, "--teacher", tmp_path / "nowhere{seed}", "--out", tmp_path / "s"], capsys)
    assert code == 2 and "nowhere0" in err and "not a finished run directory" in err
    unfinished = tmp_path / "unfinished"
    shutil.copytree(teacher_runs / "seed0", unfinished)
    (unfinished / "results.json").unlink()
    code, err = run_main([*STUDENT, "--teacher", unfinished, "--out", tmp_path / "s"], capsys)
    assert code == 2 and "not a finished run directory" in err


def test_distillation_settings_need_a_teacher(tmp_path, capsys):
    code, err = run_main([*STUDENT, "--distill-weight", 0.3, "--out", tmp_path / "s"], capsys)
    assert code == 2 and "--distill-weight 0.3" in err and "--teacher" in err
    with pytest.raises(SystemExit):
        train_module.build_parser().parse_args(["--model", "mlp_small", "--distill-weight", "1.5"])
    assert "expected a number in [0, 1], got 1.5" in capsys.readouterr().err

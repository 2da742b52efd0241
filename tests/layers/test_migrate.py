"""`python -m constrained_layers.migrate`: tf-keras .h5 -> native .keras.

tf-keras models with LocallyConnected1D/2D (every implementation, both data
formats; `test_compat.MODELS`) saved to .h5 by tf-keras are migrated by the
function and by the command line; the .keras written loads with plain
`keras.saving.load_model` (no compat layer left) and gives tf-keras's
outputs. Each error (missing file, not a model, a layer that cannot be
converted, outputs beyond the tolerance, a name that is not .keras) exits
with status 1 and one line, and writes nothing.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from constrained_layers import compat, migrate
from tests.layers import helpers
from tests.layers.test_compat import MODELS, call, save_tf_keras_models

tf_keras = pytest.importorskip("tf_keras")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return save_tf_keras_models(tmp_path_factory.mktemp("tf_keras_h5"))


def _check_native(path, inputs, expected):
    model = keras.saving.load_model(str(path))  # no custom_objects: native layers only
    classes = {type(layer).__module__.split(".")[0] for layer in _all_layers(model)}
    assert classes <= {"keras", "constrained_layers"}
    assert not any(isinstance(layer, compat.BaseLocallyConnectedCompat) for layer in _all_layers(model))
    for actual, wanted in zip(call(model, inputs), expected, strict=True):
        np.testing.assert_allclose(actual, wanted, atol=helpers.ATOL, rtol=helpers.RTOL)


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _cli(*args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "constrained_layers.migrate", *map(str, args)],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=env,
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_migrate_function(saved, name, tmp_path):
    path, inputs, expected = saved[name]
    new = tmp_path / f"{name}.keras"
    report = migrate.migrate(path, new)
    assert report.reference == "tf_keras" and report.max_abs_diff <= 1e-5
    assert len(report.converted) == (6 if name == "channels_first" else 3)
    assert str(report).startswith(f"wrote {new}") and "match tf-keras" in str(report)
    assert sorted(os.listdir(tmp_path)) == [new.name]  # no temporary file left
    _check_native(new, inputs, expected)


def test_migrate_command_line(saved, tmp_path):
    path, inputs, expected = saved["sequential_2d"]
    new = tmp_path / "new.keras"
    result = _cli(path, new, "--samples", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"wrote {new}" in result.stdout and "converted 3 layer(s)" in result.stdout
    _check_native(new, inputs, expected)


def test_without_tf_keras_says_so(saved, tmp_path, monkeypatch):
    path, inputs, expected = saved["functional_1d"]
    monkeypatch.setitem(sys.modules, "tf_keras", None)  # `import tf_keras` raises ImportError
    report = migrate.migrate(path, tmp_path / "new.keras", samples=2)
    assert report.reference == "compat"
    assert "tf_keras is not installed: NOT compared with tf-keras itself" in str(report)
    _check_native(tmp_path / "new.keras", inputs, expected)


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as info:
        migrate.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for default in ("(default: 1e-05)", "(default: 8)", "(default: 0)"):
        assert default in text


def _error(argv, capsys):
    assert migrate.main([str(a) for a in argv]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_missing_file(tmp_path, capsys):
    missing = tmp_path / "missing.h5"
    assert _error([missing, tmp_path / "a.keras"], capsys) == f"error: {missing}: no such file"
    assert os.listdir(tmp_path) == []


def test_not_a_model(tmp_path, capsys):
    text = tmp_path / "notes.h5"
    text.write_text("not a model")
    assert "notes.h5 is not a Keras .h5 model file (not HDF5" in _error([text, tmp_path / "a.keras"], capsys)
    import h5py

    with h5py.File(tmp_path / "weights.h5", "w") as f:
        f.create_dataset("w", data=np.zeros(3))
    message = _error([tmp_path / "weights.h5", tmp_path / "a.keras"], capsys)
    assert "weights.h5 is not a Keras .h5 model file (it has no model_config)" in message
    assert _error([text, tmp_path / "a.h5"], capsys).startswith("error: the new file must end in .keras")
    assert sorted(os.listdir(tmp_path)) == ["notes.h5", "weights.h5"]


def test_layer_that_cannot_be_converted(tmp_path, capsys, monkeypatch):
    @tf_keras.saving.register_keras_serializable("test_migrate")
    class Twice(tf_keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = tf_keras.Input((6, 2))
    outputs = Twice(name="twice")(tf_keras.layers.LocallyConnected1D(2, 3, kernel_initializer="zeros")(inputs))
    tf_keras.Model(inputs, outputs).save(str(tmp_path / "custom.h5"))
    message = _error([tmp_path / "custom.h5", tmp_path / "a.keras"], capsys)
    assert "cannot convert layer 'twice' of class 'test_migrate>Twice'" in message

    def refuse(layer):
        raise ValueError("no native equivalent")

    monkeypatch.setattr(compat, "to_native", refuse)
    inputs = tf_keras.Input((6, 2))
    outputs = tf_keras.layers.LocallyConnected1D(2, 3, kernel_initializer="zeros", name="lc")(inputs)
    tf_keras.Model(inputs, outputs).save(str(tmp_path / "plain.h5"))
    message = _error([tmp_path / "plain.h5", tmp_path / "a.keras"], capsys)
    assert message == "error: cannot convert layer 'lc' of class 'LocallyConnected1D': no native equivalent"
    assert not (tmp_path / "a.keras").exists()


def test_tolerance_failure_writes_nothing(saved, tmp_path, capsys, monkeypatch):
    path, _, _ = saved["sequential_2d"]
    new = tmp_path / "new.keras"
    new.write_bytes(b"previous")
    to_native = compat.to_native

    def off_by_a_bit(layer):
        native = to_native(layer)
        lc = native.layers[-1] if isinstance(native, keras.Sequential) else native
        lc.kernel.assign(lc.kernel + 0.01)
        return native

    monkeypatch.setattr(compat, "to_native", off_by_a_bit)
    message = _error([path, new, "--samples", "2"], capsys)
    assert message.startswith("error: outputs differ from tf-keras by up to ")
    assert "(tolerance atol=1e-05, rtol=1e-05)" in message and message.endswith(f"{new} not written")
    assert new.read_bytes() == b"previous" and sorted(os.listdir(tmp_path)) == ["new.keras"]

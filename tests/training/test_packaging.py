"""Packaging that tells the truth, and commands without TensorFlow's start-up noise."""

import configparser
import inspect
import os
import re
import subprocess
import sys

import pytest

from tests.training import cli

SETUP_CFG = os.path.join(cli.REPO, "setup.cfg")


def setup_cfg():
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG)
    return parser


def requirement(name):
    lines = setup_cfg()["options"]["install_requires"].splitlines()
    [line] = [line.strip() for line in lines if re.match(rf"\s*{name}\s*[<>=!~]", line)]
    return line


def extra_requirement(extra, name):
    lines = setup_cfg()["options.extras_require"][extra].splitlines()
    [line] = [line.strip() for line in lines if re.match(rf"\s*{name}\s*[<>=!~]", line)]
    return line


def test_python_floor_is_the_same_in_setup_cfg_readme_and_constraints():
    floor = setup_cfg()["options"]["python_requires"].strip()
    assert floor == ">=3.11"  # constraints.txt pins builds (numpy 2.4, contourpy 1.3.3) that need 3.11
    with open(os.path.join(cli.REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert "Python ≥ 3.11" in readme and "Python ≥ 3.10" not in readme
    with open(os.path.join(cli.REPO, "constraints.txt"), encoding="utf-8") as f:
        assert "Python 3.11" in f.readline()
    assert sys.version_info >= (3, 11)


def test_license_file_matches_setup_cfg():
    assert setup_cfg()["metadata"]["license"].strip() == "Apache-2.0"
    with open(os.path.join(cli.REPO, "LICENSE"), encoding="utf-8") as f:
        text = f.read()
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text


PATCH = (
    "training/run/distribute.py's prepare_model replaces Keras's private "
    "keras.src.backend.tensorflow.trainer.reduce_per_replica(values, strategy, reduction) and "
    "Model._maybe_symbolic_build(iterator=None, data_batch=None) for multi-worker training"
)


def test_keras_is_bounded_below_its_next_minor_version_while_we_patch_it():
    import keras

    major, minor = (int(part) for part in keras.__version__.split(".")[:2])
    assert requirement("keras") == f"keras>={major}.{minor}"  # the layers and the zoo patch nothing
    for extra in ("train", "test"):  # training does
        assert extra_requirement(extra, "keras") == f"keras>={major}.{minor},<{major}.{minor + 1}", (
            f"Keras {keras.__version__} is installed; setup.cfg's [{extra}] must bound it below the next minor "
            f"version while {PATCH}."
        )


def test_the_private_keras_code_we_patch_is_still_there():
    """Fails, naming the patch, when a Keras release moves or changes what prepare_model replaces."""
    import keras

    try:
        from keras.src.backend.tensorflow import trainer
    except ImportError as error:
        pytest.fail(f"Keras {keras.__version__} has no keras.src.backend.tensorflow.trainer ({error}); {PATCH}.")
    reduce = getattr(trainer, "reduce_per_replica", None)
    assert callable(reduce), f"Keras {keras.__version__} has no reduce_per_replica; {PATCH}."
    params = list(inspect.signature(reduce).parameters)
    if getattr(reduce, "_scalars_fixed", False):  # our wrapper is in place: check what it wraps
        params = ["values", "strategy", "reduction"]
    assert params == ["values", "strategy", "reduction"], f"reduce_per_replica{params}; {PATCH}."
    build = getattr(keras.Model, "_maybe_symbolic_build", None)
    assert build is not None, f"Keras {keras.__version__} has no Model._maybe_symbolic_build; {PATCH}."
    assert list(inspect.signature(build).parameters) == ["self", "iterator", "data_batch"], (
        f"Model._maybe_symbolic_build{inspect.signature(build)}; {PATCH}."
    )


# ------------------------------------------------------------ TensorFlow's start-up noise
NOISE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796164113.009852   16162 port.cc:153] oneDNN custom operations are on. You may see ...",
    "I0000 00:00:1796164113.012034   16162 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.",
    "E0000 00:00:1796164120.691452   16162 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
]
REAL_LINES = [
    "W0000 00:00:1796164120.691452   16162 op_kernel.cc:1857] OP_REQUIRES failed at strided_slice_op.cc",
    "E0000 00:00:1796164120.691452   16162 cuda_dnn.cc:535] Could not create cudnn handle: CUDNN_STATUS_INTERNAL_ERROR",
    "Traceback (most recent call last):",
]


def test_noise_filter_drops_the_start_up_lines_and_nothing_else():
    from constrained_zoo.commands import is_noise

    assert [is_noise(line) for line in NOISE_LINES] == [True] * 4
    assert [is_noise(line) for line in REAL_LINES] == [False] * 3


FILTERED = """
import os
from constrained_zoo import commands
with commands._stderr_filtered():
    os.write(2, ("\\n".join(__import__("json").loads(os.environ["LINES"])) + "\\n").encode())
"""


def test_filtered_stderr_keeps_real_warnings_and_errors():
    import json

    done = subprocess.run([sys.executable, "-c", FILTERED], cwd=cli.REPO, capture_output=True, text=True,
                          env={**cli.ENV, "LINES": json.dumps(NOISE_LINES[:2] + REAL_LINES + NOISE_LINES[2:])})
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == REAL_LINES


@pytest.mark.parametrize("argv, last_line", [
    (["constrained_zoo.training.train", "--model", "mlp_linear", "--dataset", "digits", "--shift", "99", "--out", "{tmp}/r"],
     "error: "),
    (["constrained_zoo.training.sweep", "--dataset", "digits", "--models", "no_such_model*", "--out", "{tmp}/out"],
     "error: no model matches"),
    (["czoo-train", "--model", "mlp_linear", "--dataset", "digits", "--shift", "99", "--out", "{tmp}/r"], "error: "),
    (["czoo-sweep", "--dataset", "digits", "--models", "no_such_model*", "--out", "{tmp}/out"],
     "error: no model matches"),
    (["czoo-predict", "--model", "cnn_small", "{tmp}/missing.png"], "czoo-predict: error: No such file"),
    (["czoo-evaluate", "{tmp}/no_run"], "error: "),
    (["czoo-publish", "{tmp}/no_run"], "error: "),
    (["constrained_zoo.training.publishing", "{tmp}/no_run"], "error: "),
    (["czoo-params", "--delta", "-1"], "python -m constrained_layers.params: error: argument --delta"),
])
def test_our_clis_start_without_tensorflow_noise(tmp_path, argv, last_line):
    env = {k: v for k, v in cli.ENV.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user starts them
    argv = [a.format(tmp=tmp_path) for a in argv]
    if argv[0].startswith("czoo-"):  # a console script, as pip installs it beside this interpreter
        command = [sys.executable, os.path.join(os.path.dirname(sys.executable), argv[0]), *argv[1:]]
    else:
        command = [sys.executable, "-m", *argv]
    done = subprocess.run(command, cwd=cli.REPO, env=env, capture_output=True, text=True, timeout=cli.TIMEOUT)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and output.strip(), output  # the tool said what went wrong
    for pattern in ("absl::InitializeLog", "oneDNN", "cuda drivers", "cuInit", "cpu_feature_guard"):
        assert pattern not in output, output
    assert done.stderr.strip().splitlines()[-1].startswith(last_line)

"""Every command of README.md does what the sentence around it says.

Each shell line of the README is matched to one check below (a line no
check claims fails `test_every_readme_command_is_checked`). The checks run
the command where it is quick and, where it trains for minutes or hours,
check what the sentence promises about it: a fresh output folder, the
number of models and seeds it states.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.test_docs import blocks, read

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 900


def readme_lines():
    """Every non-comment line of the README's shell blocks, comments stripped."""
    found = []
    for _, _, code, _ in blocks("README.md", {"bash", "console", "sh", "shell"}):
        for text in code.replace("\\\n", " ").splitlines():
            words = shlex.split(text, comments=True)
            if words:
                found.append(words)
    return found


def the_line(prefix):
    [line] = [words for words in readme_lines() if words[:len(prefix)] == prefix]
    return line


def flag(words, name):
    return words[words.index(name) + 1]


def tracked(path):
    """The files git tracks under `path` (relative to the repository)."""
    done = subprocess.run(["git", "ls-files", "--", path], cwd=REPO, capture_output=True, text=True, check=True)
    return done.stdout.split()


def console_script(name):
    return os.path.join(os.path.dirname(sys.executable), name)


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    env.update(KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", PYTHONDONTWRITEBYTECODE="1")
    return env


CHECKED = [["pip", "install"], ["make", "demo"], ["make", "test"], ["czoo-predict"], ["czoo-train"], ["czoo-sweep"],
           ["python", "-m", "constrained_zoo.training.report"]]


def test_every_readme_command_is_checked():
    unchecked = [words for words in readme_lines() if not any(words[:len(p)] == p for p in CHECKED)]
    assert not unchecked, f"README commands without a check in this file: {unchecked}"


def test_pip_install_names_extras_that_exist():
    import configparser

    parser = configparser.ConfigParser()
    parser.read(os.path.join(REPO, "setup.cfg"))
    extras = set(parser["options.extras_require"])
    for words in readme_lines():
        if words[:2] == ["pip", "install"]:
            named = re.fullmatch(r"\.(?:\[([a-z,]+)\])?", words[2])
            assert named, words
            assert set((named[1] or "").split(",")) - {""} <= extras, words


def test_make_demo_says_first_what_it_installs():
    """`make demo`: the notice comes before any install, and it installs the [train] extra, not [test]."""
    done = subprocess.run(["make", "-n", "demo"], cwd=REPO, capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    notice = next(i for i, line in enumerate(lines) if "dataset-fashion-mnist" in line)
    install = next(i for i, line in enumerate(lines) if "pip install" in line or "apt-get install" in line)
    assert notice < install
    assert any("-e '.[train]'" in line for line in lines) and not any("[test]" in line for line in lines)
    assert any("constrained_zoo.training.demo" in line for line in lines)


def test_make_test_runs_the_suite_on_tensorflow_jax_then_torch():
    done = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, check=True)
    runs = [line for line in done.stdout.splitlines() if "pytest" in line]
    assert [line.split()[0] for line in runs] == ["KERAS_BACKEND=tensorflow", "KERAS_BACKEND=jax", "KERAS_BACKEND=torch"]


def test_czoo_predict_labels_the_image(tmp_path):
    """"or from the command line": the same three labels and probabilities as the snippet above it."""
    from tests.test_docs import write_shoe
    from constrained_zoo import models

    words = the_line(["czoo-predict"])
    write_shoe(tmp_path / words[-1])
    done = subprocess.run([sys.executable, console_script("czoo-predict"), *words[1:]], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == words[-1] and len(lines) == 4, done.stdout
    classes = models.class_names(flag(words, "--weights"))
    assert all(" ".join(line.split()[:-1]) in classes and line.endswith("%") for line in lines[1:])


def test_czoo_train_writes_to_a_fresh_folder():
    words = the_line(["czoo-train"])
    out = flag(words, "--out")
    assert not tracked(out), f"{out} holds committed files"
    assert "(The same as `python -m constrained_zoo.training.train ...`.)" in read("README.md")


@pytest.mark.slow
def test_czoo_train_trains_the_epochs_it_names(tmp_path):
    import json

    words = the_line(["czoo-train"])
    done = subprocess.run([sys.executable, console_script("czoo-train"), *words[1:]], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=3 * TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(tmp_path / flag(words, "--out") / "results.json", encoding="utf-8") as f:
        assert json.load(f)["epochs"] == int(flag(words, "--epochs"))


def test_the_tables_reproduction_trains_what_it_says_into_a_fresh_folder():
    """"The command trains N models, S seeds each ... into the new folder OUT"."""
    from constrained_zoo.training.sweep import select_models

    words = the_line(["czoo-sweep"])
    out = flag(words, "--out")
    assert not tracked(out), f"{out} holds committed files: the sweep would skip them and train nothing"
    sentence = re.search(r"The command trains (\d+) models, (\d+) seeds each.*?into the new folder `([^`]+)`",
                         read("README.md"), re.S)
    assert sentence, "the sentence before the sweep"
    models_, seeds, folder = int(sentence[1]), int(sentence[2]), sentence[3]
    assert len(select_models(flag(words, "--models"), flag(words, "--dataset"))) == models_
    assert int(flag(words, "--seeds")) == seeds and folder == out
    report = the_line(["python", "-m", "constrained_zoo.training.report"])
    assert report[3] == out  # the report reads the folder the sweep writes


def test_the_report_writes_the_table_and_the_plot_from_what_has_finished(tmp_path):
    words = the_line(["python", "-m", "constrained_zoo.training.report"])
    folder = tmp_path / words[3]
    for model in ("mlp_linear", "cnn_tiny"):  # two finished models of the published table, as if just trained
        shutil.copytree(os.path.join(REPO, "results", "fashion_mnist", "runs", model), folder / "runs" / model)
    done = subprocess.run([sys.executable, *words[1:]], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    table = (folder / "results.md").read_text(encoding="utf-8")
    assert "| mlp_linear " in table and "cnn_tiny" in table  # († marks the published runs that record no clean commit)
    assert (folder / "accuracy_vs_params.png").stat().st_size > 0
    match = re.search(r"writes the table \(`([^`]+)`\) and the plot", read("README.md"))
    assert match and match[1] == f"{words[3]}/results.md"

"""The README's tables are generated (`python -m constrained_zoo.training.readme`): they cannot drift from the code or results."""

import json
import os

import pytest

from tests.training import cli
from constrained_zoo.training import readme

TEXT = """# Title

Prose before, kept.

<!-- generated: results results/toy -->
| stale | table |
<!-- /generated -->

Prose between, kept.
<!-- generated: compare results/toy results/toy -->
<!-- /generated -->
"""


def _toy_results(root):
    run = root / "results" / "toy" / "runs" / "cnn_small" / "seed0"
    os.makedirs(run)
    (run / "config.json").write_text(json.dumps({"args": {"model": "cnn_small", "dataset": "digits", "epochs": 2}}))
    (run / "results.json").write_text(json.dumps({
        "model": "cnn_small", "family": "multi_channel_conv", "trainable_params": 1898, "test_accuracy": 0.9,
        "best_val_accuracy": 0.91, "epochs": 2, "num_train": 1000, "wall_time_seconds": 3.0, "seed": 0}))


@pytest.mark.parametrize("name", sorted(readme.DOCUMENTS))
def test_the_documents_are_what_the_code_and_results_give(name):
    """Fails when a document's generated tables differ from the code or results/: run python -m constrained_zoo.training.readme --write."""
    with open(os.path.join(readme.REPO, name), encoding="utf-8") as f:
        text = f.read()
    assert readme.missing_kinds(text, readme.DOCUMENTS[name]) == []
    assert readme.render(text) == text, f"{name} is stale: run python -m constrained_zoo.training.readme --write"


def test_a_command_block_is_the_commands_output(tmp_path):
    text = "<!-- generated: command python -m constrained_layers.params --height 4 --width 4 --delta 1 -->\n<!-- /generated -->\n"
    fresh = readme.render(text, tmp_path)
    assert "Parameters for a 4×4×1 input, 1 output channel(s), Δ = 1" in fresh
    with pytest.raises(readme.ReadmeError, match="exited with 2"):
        readme.render("<!-- generated: command python -m constrained_layers.params --delta -1 -->\n<!-- /generated -->\n")


def test_render_replaces_only_the_blocks(tmp_path):
    _toy_results(tmp_path)
    fresh = readme.render(TEXT, tmp_path)
    assert fresh.startswith("# Title\n\nProse before, kept.\n\n<!-- generated: results results/toy -->\n"
                            "| model | family | weights (trainable) | test accuracy |")
    assert "| stale | table |" not in fresh
    assert "| cnn_small ★ † | multi_channel_conv | 1,898 | 0.9000 | 1 | 2 | 1,000 | 3 |" in fresh
    assert "<!-- /generated -->\n\nProse between, kept.\n<!-- generated: compare" in fresh
    assert "| cnn_small | multi_channel_conv | 1,898 | 0.9000 | 0.9000 | +0.0 | n/a (one seed) |\n<!-- /generated -->\n" in fresh
    assert readme.render(fresh, tmp_path) == fresh


def test_cli_checks_then_writes(tmp_path, capsys):
    _toy_results(tmp_path)
    path = tmp_path / "README.md"
    path.write_text(TEXT)
    assert readme.main(["--readme", str(path)]) == 1
    captured = capsys.readouterr()
    assert "-| stale | table |" in captured.out and "run python -m constrained_zoo.training.readme --write" in captured.err
    assert path.read_text() == TEXT  # a check writes nothing
    assert readme.main(["--readme", str(path), "--write"]) == 0
    assert readme.main(["--readme", str(path)]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("text, match", [
    ("<!-- generated: nothing -->\n<!-- /generated -->\n", r"line 1: .*unknown kind 'nothing'"),
    ("<!-- generated: results -->\n<!-- /generated -->\n", r"'results' takes 1 argument\(s\); received \[\]"),
    ("<!-- generated: zoo -->\nno end\n", r"line 1: <!-- generated: zoo --> has no <!-- /generated --> after it"),
    ("x\n<!-- /generated -->\n", r"line 2: <!-- /generated --> without a marker"),
    ("<!-- generated: results results/none -->\n<!-- /generated -->\n", r"'results/none' has no runs/ folder"),
])
def test_bad_markers_are_named(tmp_path, text, match):
    with pytest.raises(readme.ReadmeError, match=match):
        readme.render(text, tmp_path)


def test_the_zoo_listing_has_todays_parameter_counts():
    # Stale once (9,254 and 49,586, with old heads); generated since: every weight, the trainable ones beside.
    from constrained_zoo import models

    with open(os.path.join(cli.REPO, "docs", "zoo.md"), encoding="utf-8") as f:
        text = f.read()
    for name in ("cnn_bn_10k", "cnn_bn_50k"):
        model = models.create_model(name)
        assert model.count_params() > models.trainable_params(model)  # BatchNorm's statistics
        cell = f"{model.count_params():,} ({models.trainable_params(model):,})"
        assert f"| {name} | multi_channel_conv | fashion_mnist, digits | {cell} |" in text

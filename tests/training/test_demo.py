"""`make demo` (issue #12, item 6): ranked by validation, never by test; shipped weights re-checked.

The ranking logic is tested on rows whose test accuracies say the opposite
of their validation accuracies; the re-check runs `python -m constrained_zoo.training.demo
--no-train` on a temporary weights root (`--weights-dir`) holding a real
shipped file with its true manifest entry and one with a count changed.
"""

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from constrained_zoo.models import weights as _weights
from tests.training import cli
from constrained_zoo.training import demo

pytestmark = pytest.mark.tensorflow_only


def row(model, family, validation, test, params=9_000, trainable=None):
    """A row as `demo.short_run_rows` makes them ("validation": the figure that ranks)."""
    return {"model": model, "family": family, "params": params, "validation": validation,
            "trainable_params": params if trainable is None else trainable,
            "best_val_accuracy": validation, "test": test, "seed": 0}


# Validation says convolution > locally connected > fully connected; test says the reverse.
ROWS = [
    row("cnn", "multi_channel_conv", 0.90, 0.70),
    row("lc", "locally_connected", 0.85, 0.80),
    row("fc", "fully_connected", 0.80, 0.90),
    row("mlp", "mlp", 0.75, 0.95),
]


def test_families_are_ranked_by_validation_never_by_test():
    bests = demo.family_bests(ROWS + [row("cnn_b", "multi_channel_conv", 0.89, 0.99)], "validation")
    assert [r["model"] for r in bests] == ["cnn", "lc", "fc", "mlp"]  # cnn_b's better test does not count
    groups, verdict = demo.chapter_check(ROWS, "validation")
    assert verdict is True
    assert [(g, r["model"]) for g, r in groups] == [
        ("convolution", "cnn"), ("locally connected", "lc"), ("fully connected", "fc")]
    # The same rows ranked by test would be the reverse: the verdict follows the key it is given.
    assert demo.chapter_check(ROWS, "test")[1] is False


def test_a_ranking_that_is_not_the_chapters_is_said_plainly():
    rows = [row("cnn", "multi_channel_conv", 0.80, 0.99), row("lc", "locally_connected", 0.85, 0.5),
            row("mlp", "mlp", 0.86, 0.5)]
    groups, verdict = demo.chapter_check(rows, "validation")
    assert verdict is False
    line = demo.verdict_line(groups, verdict, "validation", "validation accuracy")
    assert "NOT the chapter's order" in line
    assert line.index("fully connected 0.8600 (mlp)") < line.index("convolution 0.8000 (cnn)")
    # A tie is not an order either.
    assert demo.chapter_check([row("c", "shared_conv", 0.8, 0), row("l", "locally_connected", 0.8, 0),
                               row("f", "mlp", 0.7, 0)], "validation")[1] is False
    # A group without a model: no verdict, and it says which.
    groups, verdict = demo.chapter_check(rows[:1] + rows[2:], "validation")
    assert verdict is None
    assert "no locally connected model" in demo.verdict_line(groups, verdict, "validation", "validation")


def test_the_short_run_table_is_ordered_by_validation_and_the_best_copied_by_it(tmp_path):
    args = SimpleNamespace(max_train_examples=None, epochs=5, learning_rate=0.003, lr_schedule="cosine")
    lines = demo.report_short_run(ROWS, "best validation accuracy", args)
    table = [line for line in "\n".join(lines).splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [line.split(" | ")[2] for line in table] == ["cnn", "lc", "fc", "mlp"]
    assert "by best validation accuracy: convolution 0.9000 (cnn)" in "\n".join(lines)
    for r in ROWS:  # copy_best takes the best by validation: cnn, whose test is the worst
        os.makedirs(tmp_path / "runs" / r["model"] / "seed0" / "saved_model")
        (tmp_path / "runs" / r["model"] / "seed0" / "saved_model" / "name").write_text(r["model"])
    best, _, target = demo.copy_best(ROWS, "best validation accuracy", str(tmp_path))
    assert best["model"] == "cnn" and open(os.path.join(target, "name")).read() == "cnn"
    assert cli.read_json(tmp_path / "best_model.json")["test_accuracy"] == 0.70


def test_the_published_part_ranks_by_the_manifests_validation_within_budgets_and_names_commands():
    rows = [
        {**row("cnn_big", "multi_channel_conv", 0.95, 0.50, params=50_000), "recomputed": 0.5, "match": True},
        {**row("cnn_small", "multi_channel_conv", 0.90, 0.91), "recomputed": 0.91, "match": True},
        {**row("cnn_bn", "multi_channel_conv", 0.70, 0.71, params=14_000, trainable=13_000), "recomputed": 0.71,
         "match": True},
        {**row("lc_tiny", "locally_connected", 0.85, 0.95), "recomputed": 0.95, "match": True},
        {**row("mlp_linear", "mlp", 0.80, 0.99), "recomputed": 0.99, "match": True},
    ]
    for r in rows:
        r.update(command=f"python -m constrained_zoo.training.train --model {r['model']} --epochs 20", commit="36b2706f", error=None)
    text = "\n".join(demo.report_published(rows, [row("cnn_small", "multi_channel_conv", 0.8, 0.7)], [15_000, 60_000]))
    for r in rows:
        assert f"{r['model']}: python -m constrained_zoo.training.train --model {r['model']} --epochs 20  (commit 36b2706)" in text
    assert "python -m constrained_zoo.training.evaluate --model MODEL --weights fashion_mnist" in text
    assert "| cnn_small | multi_channel_conv | 9,000 | 0.9000 | 0.9100 | 0.9100 | match | 0.8000 | 0.7000 |" in text
    # Every weight counted, the trainable ones beside them where they differ.
    assert "| cnn_bn | multi_channel_conv | 14,000 (13,000) | 0.7000 | 0.7100 | 0.7100 | match |" in text
    within_15k, within_60k = text.split("≤ 15,000 weights")[1].split("≤ 60,000 weights")
    assert "cnn_big" not in within_15k and "convolution 0.9000 (cnn_small)" in within_15k
    assert "convolution 0.9500 (cnn_big)" in within_60k
    assert "the chapter's order" in within_60k and "NOT" not in within_60k


def test_bad_arguments_are_named(capsys):
    assert demo.main(["--no-train", "--published", "no_such_model*"]) == 2
    err = capsys.readouterr().err
    assert "--published 'no_such_model*' matches no published fashion_mnist model" in err and "mlp_linear" in err
    for argv, name in ((["--budgets", "0"], "--budgets"), (["--epochs", "0"], "--epochs"),
                       (["--validation-fraction", "1"], "--validation-fraction"),
                       (["--no-train", "--published", "none"], "--no-train with --published none")):
        with pytest.raises(SystemExit):
            demo.main(argv)
        assert name in capsys.readouterr().err


def weights_root(tmp_path, changed=None):
    """A weights root with two real shipped files and their manifest entries (`changed`'s count off by one)."""
    root = tmp_path / "weights"
    entries = []
    for entry in _weights.published_weights("fashion_mnist"):
        if entry["model"] in ("mlp_linear", "fc2d_small"):
            os.makedirs(root / "fashion_mnist", exist_ok=True)
            shutil.copy(os.path.join(_weights.PACKAGE_WEIGHTS_DIR, entry["file"]), root / entry["file"])
            if entry["model"] == changed:
                entry = {**entry, "test_correct": entry["test_correct"] + 1,
                         "test_accuracy": (entry["test_correct"] + 1) / entry["num_test"]}
            entries.append(entry)
    assert len(entries) == 2, "the package ships mlp_linear and fc2d_small on fashion_mnist"
    (root / "manifest.json").write_text(json.dumps({"format": 1, "weights": entries}))
    return root


def run_demo(*args):
    return subprocess.run([sys.executable, "-m", "constrained_zoo.training.demo", *map(str, args)], cwd=cli.REPO, env=cli.ENV,
                          capture_output=True, text=True, timeout=cli.TIMEOUT)


def test_shipped_weights_are_re_checked_a_mismatch_is_an_error_and_the_commands_are_named(tmp_path):
    done = cli.check(run_demo("--no-train", "--weights-dir", weights_root(tmp_path, changed="fc2d_small")), 1)
    assert "mlp_linear       0.8448 (8,448/10,000), the manifest 0.8448: match" in done.stdout
    assert "| mlp_linear | mlp | 7,850 | 0.8527 | 0.8448 | 0.8448 | match |" in done.stdout
    assert "| fc2d_small | fully_connected | 50,890 | 0.8825 | 0.8783 | 0.8782 | MISMATCH |" in done.stdout
    for model in ("mlp_linear", "fc2d_small"):
        assert f"{model}: python -m constrained_zoo.training.train --model {model} --dataset fashion_mnist --epochs 20" in done.stdout
    assert "MISMATCH: fc2d_small: re-computed 0.8782, the manifest says 0.8783" in done.stderr
    assert "python -m constrained_zoo.training.evaluate --model fc2d_small --weights fashion_mnist" in done.stderr
    assert "error: 1 published model(s) do not reproduce their manifest's test accuracy: fc2d_small." in done.stderr

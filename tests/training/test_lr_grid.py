"""`training.lr_grid`: the learning rate is chosen on validation, never on test; folders are checked."""

import json
import os

import pytest

from constrained_zoo.training import lr_grid

FAMILIES = {"mlp_small": "mlp", "lc_small": "locally_connected", "cnn_base": "multi_channel_conv"}


def _run(folder, model, seed, rate, val, test, model_args=None, epochs=20):
    run_dir = folder / "runs" / model / f"seed{seed}"
    run_dir.mkdir(parents=True)
    (run_dir / "results.json").write_text(json.dumps({
        "model": model, "family": FAMILIES[model], "seed": seed, "trainable_params": 50_000,
        "best_val_accuracy": val, "test_accuracy": test, "epochs": epochs, "num_train": 100,
        "wall_time_seconds": 1.0,
    }))
    (run_dir / "config.json").write_text(json.dumps({"args": {
        "model": model, "seed": seed, "learning_rate": rate, "epochs": epochs, "lr_schedule": "cosine",
        "model_args": model_args or {},
    }}))


@pytest.fixture
def folders(tmp_path):
    low, high = tmp_path / "lr0.001", tmp_path / "lr0.003"
    # mlp_small: the higher rate has the better TEST accuracy but the worse validation: 0.001 must win.
    _run(low, "mlp_small", 0, 0.001, val=0.90, test=0.80)
    _run(low, "mlp_small", 1, 0.001, val=0.91, test=0.82)
    _run(high, "mlp_small", 0, 0.003, val=0.85, test=0.99)
    # lc_small (width=1.5): the higher rate validates better; only seed 0 at 0.003.
    _run(low, "lc_small", 0, 0.001, val=0.86, test=0.86, model_args={"width": 1.5})
    _run(high, "lc_small", 0, 0.003, val=0.88, test=0.87, model_args={"width": 1.5})
    _run(low, "cnn_base", 0, 0.001, val=0.93, test=0.92)
    _run(high, "cnn_base", 0, 0.003, val=0.92, test=0.93)
    return [str(low), str(high)]


def test_the_rate_is_chosen_on_validation_and_reported_on_test(folders):
    found = lr_grid.grid(folders, ["mlp_small", "lc_small(width=1.5)", "cnn_base"])  # spaces optional
    rate, validation = lr_grid.choose(found["mlp_small"])
    assert rate == 0.001 and validation == {0.001: 0.90, 0.003: 0.85}  # seed 0 only: the seed both rates have
    text = lr_grid.comparison(found)
    lines = text.splitlines()
    assert lines[0] == ("| model | family | weights (trainable) | validation, lr 0.001 | validation, lr 0.003 | chosen lr | "
                        "test accuracy | seeds |")
    assert lines[2] == "| cnn_base | multi_channel_conv | 50,000 | **0.9300** | 0.9200 | 0.001 | 0.9200 ± 0.0000 | 1 |"
    assert "| mlp_small | mlp | 50,000 | **0.9000** | 0.8500 | 0.001 | 0.8100 ± 0.0141 | 2 |" in lines
    assert "| lc_small (width=1.5) | locally_connected | 50,000 | 0.8600 | **0.8800** | 0.003 | 0.8700 ± 0.0000 | 1 |" \
        in lines
    assert lines[-1] == ("Order by test accuracy: multi channel conv (0.9200) > locally connected (0.8700) > "
                         "fully connected (0.8100). The chapter's order, fully connected < locally connected < "
                         "multi-channel convolution, **holds** at this budget.")


def test_a_tie_to_float32_noise_goes_to_the_first_key():
    def runs(*vals):
        return [{"seed": seed, "best_val_accuracy": v} for seed, v in enumerate(vals)]

    # Means of float32 accuracies: (0.9725 + 0.9875) / 2 and 0.98 differ in the last bits only.
    ties = {"older": runs(0.98, 0.98), "newer": runs(0.9725 + 3e-9, 0.9875 + 3e-9)}
    assert lr_grid.choose(ties, order=["older", "newer"])[0] == "older"
    assert lr_grid.choose(ties, order=["newer", "older"])[0] == "newer"
    better = {"older": runs(0.98, 0.98), "newer": runs(0.9725, 0.99)}  # 1/800 better: a real difference
    assert lr_grid.choose(better, order=["older", "newer"])[0] == "newer"


def test_the_verdict_says_when_the_order_does_not_hold():
    rows = [{"family": "mlp", "test": 0.9}, {"family": "locally_connected", "test": 0.85},
            {"family": "multi_channel_conv", "test": 0.95}]
    assert "**does not hold**" in lr_grid.verdict(rows)


def test_folders_that_differ_in_more_than_the_rate_are_refused(folders, tmp_path):
    other = tmp_path / "other"
    _run(other, "mlp_small", 0, 0.01, val=0.9, test=0.9, epochs=40)
    with pytest.raises(lr_grid.GridError, match=r"differ in more than the learning rate: \['epochs'\]"):
        lr_grid.grid([*folders, str(other)], ["mlp_small"])


def test_a_model_missing_at_a_rate_is_named(folders, tmp_path):
    with pytest.raises(lr_grid.GridError, match=r"'lenet5' has no finished run at learning rate \[0.001, 0.003\]"):
        lr_grid.grid(folders, ["lenet5"])


def test_the_cli_writes_the_table_and_names_errors(folders, tmp_path, capsys):
    out = tmp_path / "grid.md"
    assert lr_grid.main([*folders, "--models", "mlp_small,cnn_base", "--out", str(out)]) == 0
    assert out.read_text() == capsys.readouterr().out
    assert lr_grid.main([str(tmp_path / "empty"), "--models", "mlp_small"]) == 2
    assert "holds no finished run" in capsys.readouterr().err


def test_the_readme_generates_the_grid(folders, tmp_path):
    from constrained_zoo.training import readme

    root = os.path.dirname(folders[0])
    names = ",".join(os.path.basename(f) for f in folders)
    block = readme.generate_block(f"lr_grid {names} mlp_small,cnn_base", root=root)
    assert block == lr_grid.comparison(lr_grid.grid(folders, ["mlp_small", "cnn_base"]))


def test_recipe_choice_picks_each_models_folder_on_validation(folders, tmp_path):
    third = tmp_path / "frontier"
    _run(third, "cnn_base", 0, 0.001, val=0.95, test=0.90, epochs=40)  # best validation, worse test: chosen
    _run(third, "cnn_base", 1, 0.001, val=0.96, test=0.91, epochs=40)
    lines = lr_grid.recipe_choice([*folders, str(third)], ["cnn_base", "lc_small (width=1.5)"]).splitlines()
    assert lines[0] == ("| model | weights (trainable) | validation, lr0.001 | validation, lr0.003 | validation, frontier | "
                        "chosen | test accuracy | seeds |")
    assert lines[2] == "| cnn_base | 50,000 | 0.9300 | 0.9200 | **0.9500** | frontier | 0.9050 ± 0.0071 | 2 |"
    assert lines[3] == "| lc_small (width=1.5) | 50,000 | 0.8600 | **0.8800** | — | lr0.003 | 0.8700 ± 0.0000 | 1 |"
    with pytest.raises(lr_grid.GridError, match="'lenet5' has no finished run"):
        lr_grid.recipe_choice(folders, ["lenet5"])


def test_a_rate_may_span_folders_but_a_run_is_counted_once(folders, tmp_path):
    extra = tmp_path / "lenet_lr0.001"
    _run(extra, "cnn_base", 1, 0.001, val=0.9, test=0.9)  # another seed of cnn_base at 0.001, elsewhere
    found = lr_grid.grid([*folders, str(extra)], ["cnn_base"])
    assert sorted(r["seed"] for r in found["cnn_base"][0.001]) == [0, 1]
    again = tmp_path / "again"
    _run(again, "cnn_base", 0, 0.001, val=0.9, test=0.9)
    with pytest.raises(lr_grid.GridError, match=r"'cnn_base' has two runs of seed 0 at learning rate 0.001"):
        lr_grid.grid([*folders, str(again)], ["cnn_base"])


def test_labels_keep_the_commas_inside_their_overrides():
    from constrained_zoo.training.lr_grid import split_labels

    assert split_labels("cnn_base, lc_small (delta=2, width=1.5),mlp_small") == [
        "cnn_base", "lc_small (delta=2, width=1.5)", "mlp_small"]
    assert split_labels(" , a,") == ["a"]

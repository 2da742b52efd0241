"""training/sweeps/frontier.py: each goal's recipe chosen on validation, met only with its seeds and budget."""

import json
import os

from constrained_zoo.training import readme
from constrained_zoo.training.sweeps import frontier


def _run(root, folder, seed, val, test, params=1_900, width=0.6):
    run = root / folder / "runs" / "cnn" / f"seed{seed}"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({
        "model": "cnn", "family": "multi_channel_conv", "trainable_params": params, "epochs": 1, "num_train": 10,
        "wall_time_seconds": 1.0, "seed": seed, "best_val_accuracy": val, "test_accuracy": test}))
    (run / "config.json").write_text(json.dumps({"args": {"model": "cnn", "seed": seed,
                                                          "model_args": {"width": width}}}))


def _goal(seeds=3, budget=2_000):
    return frontier.Goal("d", budget, 0.9, seeds, "cnn (width=0.6)", ("a", "b"), "0.8 somewhere")


def test_the_recipe_is_chosen_on_validation_and_the_goal_met_with_its_seeds(tmp_path):
    for seed in (0, 1):  # a: better on test, worse on validation; b: chosen, then a third seed
        _run(tmp_path, "a", seed, val=0.90, test=0.99)
        _run(tmp_path, "b", seed, val=0.95, test=0.91)
    assert frontier.outcome(str(tmp_path), _goal())[0] == "b"
    lines = frontier.frontier_table(str(tmp_path), "d", goals=(_goal(),)).splitlines()
    assert lines[2].endswith("| b | 0.9100 ± 0.0000 | 2 | no | a search that read test | 0.8 somewhere |")  # two seeds of three
    _run(tmp_path, "b", 2, val=0.95, test=0.91)
    assert frontier.outcome(str(tmp_path), _goal())[0] == "b"  # compared on the seeds both have
    assert "| 3 | yes |" in frontier.frontier_table(str(tmp_path), "d", goals=(_goal(),))
    assert "| 3 | no |" in frontier.frontier_table(str(tmp_path), "d", goals=(_goal(budget=1_000),))


def test_a_mean_exactly_at_the_target_meets_it_despite_float32(tmp_path):
    # 992 + 990 + 990 + 991 + 987 of 1,000 right: 0.99 exactly; their float32 mean is 0.98999999...
    tests = [0.9919999837875366, 0.9900000095367432, 0.9900000095367432, 0.9909999966621399, 0.9869999885559082]
    for seed, test in enumerate(tests):
        _run(tmp_path, "a", seed, val=0.9, test=test)
    goal = frontier.Goal("d", 2_000, 0.99, 5, "cnn (width=0.6)", ("a",), "0.8 somewhere")
    assert sum(tests) / 5 < 0.99
    assert "| 0.9900 ± 0.0019 | 5 | yes |" in frontier.frontier_table(str(tmp_path), "d", goals=(goal,))
    _run(tmp_path, "a", 5, val=0.9, test=0.9889999985694885)  # one more seed, 988 right: below
    assert "| 6 | no |" in frontier.frontier_table(str(tmp_path), "d", goals=(goal,))


def test_a_goal_without_runs_says_so(tmp_path):
    assert "| not run yet | — | 0 | no |" in frontier.frontier_table(str(tmp_path), "d", goals=(_goal(),))


def test_every_goals_candidate_folders_are_committed():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    missing = [folder for goal in frontier.GOALS for folder in goal.folders
               if not os.path.isdir(os.path.join(repo, folder, "runs"))]
    assert not missing


def test_the_docs_recipe_tables_choose_among_each_goals_candidates():
    """docs/results.md's `recipes` block for a goal's model has runs in exactly the goal's candidate folders."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "docs", "results.md"), encoding="utf-8") as f:
        specs = [m.group("spec").split() for m in map(readme.BEGIN.match, f.read().splitlines()) if m]
    markers = [(folders, models) for kind, *args in specs if kind == "recipes" for folders, models in [args]]
    for goal in frontier.GOALS:
        model = goal.label.replace(" ", "")
        [folders] = [folders.split(",") for folders, models in markers if model in models.split(",")]
        shown = frontier._runs_by_folder(repo, goal._replace(folders=tuple(folders)))  # pylint: disable=protected-access
        assert set(shown) == set(frontier._runs_by_folder(repo, goal)), goal.label  # pylint: disable=protected-access

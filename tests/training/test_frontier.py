"""training/sweeps/frontier.py: each goal's recipe chosen on validation, met only with its seeds and budget."""

import glob
import json
import os
import re

import pytest

from constrained_zoo.training import readme
from constrained_zoo.training.sweeps import frontier

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOALS = frontier.load_goals(os.path.join(REPO, frontier.GOALS_FILE))


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
    repo = REPO
    missing = [folder for goal in GOALS for folder in goal.folders
               if not os.path.isdir(os.path.join(repo, folder, "runs"))]
    assert not missing


def test_the_docs_recipe_tables_choose_among_each_goals_candidates():
    """docs/results.md's `recipes` block for a goal's model has runs in exactly the goal's candidate folders."""
    repo = REPO
    with open(os.path.join(repo, "docs", "results.md"), encoding="utf-8") as f:
        specs = [m.group("spec").split() for m in map(readme.BEGIN.match, f.read().splitlines()) if m]
    markers = [(folders, models) for kind, *args in specs if kind == "recipes" for folders, models in [args]]
    for goal in GOALS:
        model = goal.label.replace(" ", "")
        [folders] = [folders.split(",") for folders, models in markers if model in models.split(",")]
        shown = frontier._runs_by_folder(repo, goal._replace(folders=tuple(folders)))  # pylint: disable=protected-access
        assert set(shown) == set(frontier._runs_by_folder(repo, goal)), goal.label  # pylint: disable=protected-access


def _write(root, document):
    path = root / frontier.GOALS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


_GOOD = {"dataset": "d", "budget": 2_000, "target": 0.9, "seeds": 3, "label": "cnn (width=0.6)",
         "folders": ["a", "b"], "public": "0.8 somewhere"}


def test_the_goals_file_reads_as_goals(tmp_path):
    path = _write(tmp_path, {"goals": [_GOOD, {**_GOOD, "dataset": "e", "budget": 500}]})
    assert frontier.load_goals(path) == (_goal(), _goal(budget=500)._replace(dataset="e"))
    assert frontier.goals_text(str(tmp_path), "d") == "Goal: ≥ 0.9 with ≤ 2,000 weights (3 seeds).\n"
    assert "| ≥ 0.9 with ≤ 500 (3 seeds) | cnn (width=0.6) | — | not run yet |" in frontier.frontier_table(
        str(tmp_path), "e")


@pytest.mark.parametrize("goal, match", [
    ({**_GOOD, "budget": 0}, r"goal 0 \('cnn \(width=0.6\)'\): `budget` must be an integer >= 1 \(weights\); "
                             r"received budget=0$"),
    ({**_GOOD, "target": 93.5}, r"`target` must be an accuracy in \(0, 1\]; received target=93.5$"),
    ({**_GOOD, "seeds": True}, r"`seeds` must be an integer >= 1; received seeds=True$"),
    ({**_GOOD, "folders": "a"}, r"`folders` must be a non-empty list of results folders; received folders='a'$"),
    ({**_GOOD, "public": ""}, r"`public` must be the best public figure found, with its source; received public=''$"),
    ({k: v for k, v in _GOOD.items() if k != "public"}, r"expected the fields \[.*'public'.*\]; received \["),
    ({**_GOOD, "note": "x"}, r"received \[.*'note'.*\]$"),
])
def test_a_bad_goal_is_named_with_its_field_and_value(tmp_path, goal, match):
    with pytest.raises(frontier.GoalsError, match=match):
        frontier.load_goals(_write(tmp_path, {"goals": [goal]}))


def test_a_file_that_holds_no_goals_says_so(tmp_path):
    with pytest.raises(frontier.GoalsError, match="missing.json: cannot read the frontier's goals"):
        frontier.load_goals(str(tmp_path / "missing.json"))
    for document in ([], {"goals": []}, {"goal": [_GOOD]}):
        with pytest.raises(frontier.GoalsError, match=r"expected an object with a non-empty list `goals`; received"):
            frontier.load_goals(_write(tmp_path, document))
    _write(tmp_path, {"goals": [_GOOD]})
    with pytest.raises(readme.ReadmeError, match=r"line 1: .*no goal for dataset='mnist'"):
        readme.render("<!-- generated: goals mnist -->\n<!-- /generated -->\n", str(tmp_path))


def _prose(path):
    """A document's text outside its generated blocks, whitespace collapsed (prose wraps lines anywhere)."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"<!-- generated: .*? -->.*?<!-- /generated -->", " ", f.read(), flags=re.S)
    return " ".join(text.split())


def test_the_docs_state_goals_and_public_figures_only_through_the_goals_file():
    """The root's documents and docs/*.md state each goal and public figure in generated blocks alone.

    (CHANGELOG.md aside: history may quote the goals of its day.)

    So the code and the docs cannot disagree: edit results/frontier_goals.json, and
    `python -m constrained_zoo.training.readme --write` rewrites every place that states it.
    """
    paths = sorted(set(glob.glob(os.path.join(REPO, "*.md")) + glob.glob(os.path.join(REPO, "docs", "*.md")))
                   - {os.path.join(REPO, "CHANGELOG.md")})
    prose = {os.path.relpath(path, REPO): _prose(path) for path in paths}
    assert "docs/results.md" in prose
    for goal in GOALS:
        stated = re.escape(f"≥ {goal.target:g} with ≤ ")
        figures = [clause.split(" (")[0].strip() for clause in goal.public.split(";")]  # e.g. "0.987 at 26k"
        for name, text in prose.items():
            assert not re.search(stated, text), (name, goal.label)
            assert not [figure for figure in figures if figure in text], (name, figures)
    with open(os.path.join(REPO, "docs", "results.md"), encoding="utf-8") as f:
        results = f.read()
    for dataset in sorted({goal.dataset for goal in GOALS}):
        assert f"<!-- generated: goals {dataset} -->\n{frontier.goals_text(REPO, dataset)}" in results
        assert f"<!-- generated: frontier {dataset} -->\n" in results


def test_the_preregistered_confirmation_confirms_the_same_goals():
    """The confirmation protocol (committed before its runs) names exactly the goals of the goals file."""
    with open(os.path.join(REPO, "results", "frontier_confirmation", "protocol.json"), encoding="utf-8") as f:
        protocol = json.load(f)
    confirmed = {(g["dataset"], g["budget"], g["target"], g["min_seeds"]) for g in protocol["goals"]}
    assert confirmed == {(g.dataset, g.budget, g.target, g.seeds) for g in GOALS}

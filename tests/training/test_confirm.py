"""A confirmation protocol: exactly its runs train, and test is read only once all have finished."""

import json
import os
import subprocess
import sys

import pytest

from constrained_zoo.training import confirm

from .cli import ENV, REPO, TIMEOUT


def _protocol(tmp_path, budget=100_000, seeds=(3, 4)):
    goal = {"name": "digits_small", "dataset": "digits", "budget": budget, "target": 0.5, "min_seeds": 2,
            "model": "mlp_small", "model_args": {}, "seeds": list(seeds),
            "recipe": {"epochs": 1, "batch_size": 64}, "found_by": "nothing (a test)"}
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps({"study": "t", "goals": [goal], "interval": 0.95}))
    return str(path)


def _confirm(*args):
    return subprocess.run([sys.executable, "-m", "constrained_zoo.training.confirm", *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=2 * TIMEOUT)


def test_trains_the_named_runs_then_reads_test_once(tmp_path):
    path = _protocol(tmp_path)
    early = _confirm("--protocol", path, "--read-test")
    assert early.returncode == 2 and "2 named run(s) have not finished" in early.stderr
    assert not (tmp_path / "results.md").exists()
    done = _confirm("--protocol", path, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    runs = tmp_path / "digits_small" / "runs" / "mlp_small"
    assert sorted(os.listdir(runs)) == ["seed3", "seed4"]
    results = [json.loads((runs / f"seed{s}" / "results.json").read_text()) for s in (3, 4)]
    assert [r["seed"] for r in results] == [3, 4]
    read = _confirm("--protocol", path, "--read-test")
    assert read.returncode == 0, read.stderr
    table = (tmp_path / "results.md").read_text()
    mean = sum(r["test_accuracy"] for r in results) / 2
    assert f"| 3, 4 | {mean:.4f} ±" in table and "| found before by |" in table
    again = _confirm("--protocol", path, "--jobs", "2")  # every run finished: nothing trains again
    assert again.returncode == 0 and again.stdout == ""


def test_a_model_over_its_budget_in_weights_is_refused(tmp_path):
    with pytest.raises(confirm.ConfirmationError, match=r"holds [\d,]+ weights, over its budget of 1,000"):
        confirm.load(_protocol(tmp_path, budget=1000))


def test_fewer_seeds_than_the_goal_asks_are_refused(tmp_path):
    with pytest.raises(confirm.ConfirmationError, match="names 1 seeds; its goal asks for 2"):
        confirm.load(_protocol(tmp_path, seeds=(3,)))


def test_goal_trains_the_named_goal_alone_and_refuses_an_unknown_name(tmp_path, monkeypatch):
    path = _protocol(tmp_path)
    protocol = json.loads(open(path, encoding="utf-8").read())
    second = dict(protocol["goals"][0], name="digits_other", seeds=[5, 6])
    protocol["goals"].append(second)
    trained = []
    monkeypatch.setattr(confirm.subprocess, "run",
                        lambda words, **_: trained.append(words) or subprocess.CompletedProcess(words, 0))
    assert confirm.train(path, protocol, jobs=1, execution={"steps_per_execution": 1}, only=["digits_other"]) == 0
    assert [w[w.index("--seed") + 1] for w in trained] == ["5", "6"]
    with pytest.raises(confirm.ConfirmationError, match=r"--goal: 'nope' is not a goal of this protocol; "
                                                        r"its goals are digits_small, digits_other"):
        confirm.train(path, protocol, jobs=1, execution={"steps_per_execution": 1}, only=["nope"])

"""Training refuses a dirty checkout unless told, and then records the diff's hash."""

import subprocess

import pytest

from constrained_zoo.training.run import rundir


def _repo(path):
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / "code.py").write_text("x = 1\n")
    for args in (["add", "code.py"], ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "one"]):
        subprocess.run(["git", *args], cwd=path, check=True)
    return path


def test_a_clean_checkout_records_its_commit(tmp_path):
    repo = _repo(tmp_path)
    (repo / "results.json").write_text("{}")  # untracked files, such as a run's results, do not count
    state = rundir.git_state(repo)
    assert state["dirty"] is False and len(state["commit"]) == 40 and "diff_sha256" not in state
    rundir.check_clean(state, allow_dirty=False)


def test_a_dirty_checkout_is_refused_unless_allowed_and_its_diff_is_hashed(tmp_path):
    repo = _repo(tmp_path)
    (repo / "code.py").write_text("x = 2\n")
    first = rundir.git_state(repo)
    assert first["dirty"] is True and len(first["diff_sha256"]) == 64
    with pytest.raises(rundir.UsageError) as error:
        rundir.check_clean(first, allow_dirty=False)
    assert "uncommitted changes" in str(error.value) and "--allow-dirty" in str(error.value)
    assert first["commit"][:12] in str(error.value)
    rundir.check_clean(first, allow_dirty=True)
    assert rundir.git_state(repo)["diff_sha256"] == first["diff_sha256"]  # the same edits, the same hash
    (repo / "code.py").write_text("x = 3\n")
    assert rundir.git_state(repo)["diff_sha256"] != first["diff_sha256"]


def test_outside_git_there_is_nothing_to_check(tmp_path):
    assert rundir.git_state(tmp_path) is None
    rundir.check_clean(None, allow_dirty=False)

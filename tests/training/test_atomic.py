"""`constrained_zoo.atomic`: a reader sees the old complete file or the new one, never half of one."""

import json
import os

import pytest

from constrained_zoo.atomic import atomic_path, remove_leftovers, write_json, write_text


class Crash(Exception):
    """Stands for whatever goes wrong while writing."""


def test_write_text_creates_and_replaces(tmp_path):
    path = tmp_path / "notes.txt"
    write_text(path, "first")
    write_text(path, "second")
    assert path.read_text() == "second"
    assert os.listdir(tmp_path) == ["notes.txt"]


def test_write_json_is_indented_and_sorted(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert path.read_text().startswith('{\n  "a"') and path.read_text().endswith("}\n")


def test_temporary_is_beside_the_target_and_not_there_yet(tmp_path):
    path = tmp_path / "sub" / "model.keras"  # the parent is created
    with atomic_path(path, suffix=".keras") as tmp:
        assert os.path.dirname(tmp) == str(tmp_path / "sub")  # same file system: the rename is atomic
        assert tmp.endswith(".keras") and os.path.basename(tmp).startswith(".model.keras.")
        assert not os.path.exists(tmp)  # the writer creates it
        with open(tmp, "w") as f:
            f.write("weights")
        assert not path.exists()  # nothing final until the block ends
    assert path.read_text() == "weights"
    assert os.listdir(tmp_path / "sub") == ["model.keras"]


@pytest.mark.parametrize("wrote_anything", [False, True])
def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, wrote_anything):
    path = tmp_path / "results.json"
    path.write_text("old")
    with pytest.raises(Crash):
        with atomic_path(path) as tmp:
            if wrote_anything:
                with open(tmp, "w") as f:
                    f.write("half of the n")
            raise Crash
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_failure_without_an_old_file_leaves_nothing(tmp_path):
    with pytest.raises(Crash):
        with atomic_path(tmp_path / "results.json") as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise Crash
    assert os.listdir(tmp_path) == []


def make_dir(path, files):
    os.makedirs(path)
    for name, text in files.items():
        with open(os.path.join(path, name), "w") as f:
            f.write(text)


def test_directory_is_replaced_whole(tmp_path):
    path = tmp_path / "saved_model"
    make_dir(path, {"old.pb": "old", "stale": "only in the old one"})
    with atomic_path(path) as tmp:
        make_dir(tmp, {"saved_model.pb": "new"})
    assert sorted(os.listdir(path)) == ["saved_model.pb"]
    assert (path / "saved_model.pb").read_text() == "new"
    assert os.listdir(tmp_path) == ["saved_model"]  # no temporary, no `.old`


def test_directory_failure_leaves_the_old_directory(tmp_path):
    path = tmp_path / "saved_model"
    make_dir(path, {"saved_model.pb": "old"})
    with pytest.raises(Crash):
        with atomic_path(path) as tmp:
            make_dir(tmp, {"saved_model.pb": "half"})
            raise Crash
    assert os.listdir(path) == ["saved_model.pb"] and (path / "saved_model.pb").read_text() == "old"
    assert os.listdir(tmp_path) == ["saved_model"]


def test_remove_leftovers_removes_only_temporaries(tmp_path):
    """What a SIGKILL inside `atomic_path` leaves, and only that, is removed."""
    keep = ["config.json", "checkpoints", ".worker-worker-1", ".hidden"]
    for name in keep:
        (tmp_path / name).mkdir() if name in ("checkpoints", ".worker-worker-1") else (tmp_path / name).write_text("")
    leftovers = [".results.json.abc123.tmp", ".model.keras.x1y2.tmp.keras"]
    for name in leftovers:
        (tmp_path / name).write_text("half")
    make_dir(tmp_path / ".saved_model.q9w8.tmp", {"saved_model.pb": "half"})
    make_dir(tmp_path / "saved_model", {"saved_model.pb": "new"})
    make_dir(tmp_path / ".saved_model.z7.tmp.old", {"saved_model.pb": "old"})  # killed before its rmtree
    removed = remove_leftovers(tmp_path)
    assert sorted(removed) == sorted(leftovers + [".saved_model.q9w8.tmp", ".saved_model.z7.tmp.old"])
    assert sorted(os.listdir(tmp_path)) == sorted(keep + ["saved_model"])
    assert (tmp_path / "saved_model" / "saved_model.pb").read_text() == "new"
    assert remove_leftovers(tmp_path / "missing") == []


KILL_BETWEEN_RENAMES = """
import os, sys
from constrained_zoo.atomic import atomic_path
renames = []
real_replace = os.replace
def replace(src, dst):
    renames.append((src, dst))
    if len(renames) == 2:  # the old copy is aside, the new one not yet in place
        os._exit(9)
    real_replace(src, dst)
os.replace = replace
with atomic_path(sys.argv[1]) as tmp:
    os.makedirs(tmp)
    with open(os.path.join(tmp, "saved_model.pb"), "w") as f:
        f.write("new")
"""


def test_a_kill_between_the_two_renames_of_a_directory_is_undone(tmp_path):
    """The old copy, set aside, comes back; it is never deleted as a temporary."""
    from tests.training import cli

    path = tmp_path / "saved_model"
    make_dir(path, {"saved_model.pb": "old"})
    done = cli.python(KILL_BETWEEN_RENAMES, path)
    assert done.returncode == 9, done.stderr
    assert not path.exists()  # killed between the renames
    assert any(name.endswith(".aside") for name in os.listdir(tmp_path))
    removed = remove_leftovers(tmp_path)
    assert (path / "saved_model.pb").read_text() == "old", removed
    assert os.listdir(tmp_path) == ["saved_model"]  # the new, unfinished copy is gone


def test_write_json_writes_null_for_nan_and_infinity(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"loss": float("nan"), "history": [{"val": float("inf")}, {"val": -float("inf")}], "ok": 0.5})
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    strict = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    assert strict == {"history": [{"val": None}, {"val": None}], "loss": None, "ok": 0.5}

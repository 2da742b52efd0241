"""One owner per idea: the weights manifest and its file names, files written atomically, JSON, counts.

Read from the source (every module of `constrained_zoo`, `models` and
`training`) and checked in use: a publish names its file as
`models.manifest.weights_file` does, and the manifest it writes is what
`models.manifest.read_manifest` reads.
"""

import ast
import glob
import json
import os
import shutil

import pytest

from constrained_zoo import atomic
from constrained_zoo.models import architecture, manifest, weights

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ("constrained_zoo", "models", "training")
#: Each helper and the one module (relative to the repository) that defines it.
OWNERS = {
    "weights_file": "models/manifest.py", "manifest_entry": "models/manifest.py",
    "read_manifest": "models/manifest.py", "write_manifest": "models/manifest.py",
    "updated_manifest": "models/manifest.py", "manifest_path": "models/manifest.py",
    "weights_dir": "models/manifest.py", "sha256_of": "models/manifest.py", "weights_name": "models/manifest.py",
    "json_safe": "constrained_zoo/atomic.py", "_json_safe": "constrained_zoo/atomic.py",
    "to_json": "constrained_zoo/atomic.py", "write_json": "constrained_zoo/atomic.py",
    "write_text": "constrained_zoo/atomic.py", "atomic_path": "constrained_zoo/atomic.py",
    "trainable_params": "models/architecture.py", "count_text": "models/architecture.py",
}
#: Calls that write a file others read; only `constrained_zoo/atomic.py` makes them.
RENAMES = {("os", "replace"), ("os", "rename"), ("tempfile", "mkstemp"), ("json", "dump")}


def _modules():
    for folder in FOLDERS:
        for path in sorted(glob.glob(os.path.join(REPO, folder, "**", "*.py"), recursive=True)):
            with open(path, encoding="utf-8") as f:
                yield os.path.relpath(path, REPO), ast.parse(f.read(), path)


MODULES = dict(_modules())


def test_each_helper_is_defined_once_where_it_belongs():
    found = {}
    for path, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in OWNERS:
                found.setdefault(node.name, []).append(path)
    assert {name: paths for name, paths in found.items() if paths != [OWNERS[name]]} == {}
    assert set(found) == set(OWNERS) - {"_json_safe"}  # the old private copy is gone


def test_only_the_atomic_module_renames_files_or_dumps_json():
    calls = []
    for path, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and (node.func.value.id, node.func.attr) in RENAMES:
                calls.append((path, node.lineno, f"{node.func.value.id}.{node.func.attr}"))
            if isinstance(node, ast.Call) and any(k.arg == "allow_nan" for k in node.keywords):
                calls.append((path, node.lineno, "a JSON format of its own (allow_nan=)"))
    assert [c for c in calls if c[0] != "constrained_zoo/atomic.py"] == []
    assert calls  # the atomic module itself was read


def test_the_public_weights_module_offers_the_manifests_own_functions():
    for name in ("read_manifest", "published_weights", "find_published", "weights_name", "weights_dir",
                 "manifest_path", "sha256_of", "WeightsError", "PUBLISHED_DATASETS", "MANIFEST"):
        assert getattr(weights, name) is getattr(manifest, name), name


def _saver(content):
    def save(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
    return save


@pytest.mark.parametrize("tag", [None, "frontier"])
def test_a_published_file_is_named_by_the_one_scheme(tmp_path, tag):
    from constrained_zoo.training.publishing import install

    entry = {"model": "cnn_tiny", "dataset": "digits", **({"tag": tag} if tag else {})}
    published = install.install(str(tmp_path), entry, _saver(f"weights {tag}"))
    path = tmp_path / published["file"]
    assert published["sha256"] == manifest.sha256_of(path) and published["bytes"] == path.stat().st_size
    assert published["file"] == manifest.weights_file("cnn_tiny", "digits", published["sha256"], tag)
    assert path.name == f"cnn_tiny{'.' + tag if tag else ''}-{published['sha256'][:12]}{manifest.SUFFIX}"
    # What the publisher wrote is what the one reader reads, in the one JSON format.
    assert manifest.find_published("cnn_tiny", manifest.weights_name(entry), root=tmp_path) == published
    text = (tmp_path / manifest.MANIFEST).read_text(encoding="utf-8")
    assert text == atomic.to_json(json.loads(text))


def test_an_entry_hashed_before_publishing_names_the_file_the_publisher_writes(tmp_path):
    from constrained_zoo import models
    from constrained_zoo.training.publishing import install

    model = models.create_model("cnn_tiny", input_shape=(8, 8, 1), num_classes=10)
    staged = tmp_path / f"staged{manifest.SUFFIX}"
    model.save_weights(staged)
    hashed = manifest.manifest_entry(model, "cnn_tiny", "digits", tag="x", saved=staged)
    published = install.install(str(tmp_path / "root"), manifest.manifest_entry(model, "cnn_tiny", "digits", tag="x"),
                                lambda path: shutil.copyfile(staged, path))
    assert published == hashed
    assert hashed["params"] == model.count_params() and hashed["trainable_params"] == architecture.trainable_params(model)


def test_the_manifest_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A write that fails before its rename leaves the old manifest and no temporary beside it."""
    first = manifest.write_manifest(manifest.updated_manifest({}, {"model": "a", "dataset": "digits"}), tmp_path)
    before = (tmp_path / manifest.MANIFEST).read_text(encoding="utf-8")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        manifest.write_manifest(manifest.updated_manifest({}, {"model": "b", "dataset": "digits"}), tmp_path)
    assert (tmp_path / manifest.MANIFEST).read_text(encoding="utf-8") == before
    assert os.listdir(tmp_path) == [os.path.basename(first)]

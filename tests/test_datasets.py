"""The one table of dataset facts (`constrained_zoo.datasets`): true of the data, read by everyone, kept nowhere else."""

import ast
import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from constrained_zoo import datasets

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = datasets.list_datasets()
#: Where the zoo's code lives (the table's own module aside).
CODE = [path for folder in ("constrained_zoo", "models", "training", "benchmarks")
        for path in glob.glob(os.path.join(REPO, folder, "**", "*.py"), recursive=True)] + \
    glob.glob(os.path.join(REPO, "notebooks", "*.py"))
TABLE = os.path.join(REPO, "constrained_zoo", "datasets.py")
#: Literals keyed by dataset that hold no fact of a dataset: (file, name assigned), and why.
NOT_FACTS = {
    ("training/sweeps/plots.py", "ANCHORS"): "other people's published results, drawn on a plot",
}


def test_every_record_is_consistent():
    assert NAMES == sorted(NAMES) and len(NAMES) == len(set(NAMES))
    for name in NAMES:
        info = datasets.dataset_info(name)
        assert info.name == name and info.kind in datasets.KIND_RANKS and info.source in datasets.SOURCES
        assert len(info.input_shape) == info.rank + 1
        assert all(isinstance(c, str) for c in info.class_names) and len(set(info.class_names)) == len(info.class_names)
        assert (info.background is None) == (info.kind == "sequence") and info.outputs == "logits"
        assert isinstance(info.published, bool) and info.summary and info.description


def test_queries():
    assert datasets.list_datasets(rank=1) == ["mnist1d"]
    assert datasets.list_datasets(rank=2, published=True) == ["fashion_mnist"]
    assert set(datasets.list_datasets(published=False)) | set(datasets.list_datasets(published=True)) == set(NAMES)
    assert datasets.meant_for_rank(2)[0] == "fashion_mnist"  # the zoo's order: what a model's datasets[0] is
    assert datasets.dataset_info("fashion_mnist.frontier") is datasets.dataset_info("fashion_mnist")
    with pytest.raises(ValueError, match="argument `rank`.*Received: rank=3"):
        datasets.meant_for_rank(3)
    with pytest.raises(ValueError, match=r"argument `dataset`.*Received: dataset='cifar10'"):
        datasets.dataset_info("cifar10")


@pytest.mark.parametrize("name", ["digits", "mnist1d", "fashion_mnist"])
def test_the_facts_are_the_datas(name):
    """What the table says is what `load_arrays` returns: shape, range, classes, source, the counts in its summary."""
    from constrained_zoo.training.data import sources

    if name == "fashion_mnist" and not os.path.isdir(sources.DEBIAN_DIR):
        pytest.skip(f"Fashion-MNIST not in {sources.DEBIAN_DIR}")
    info = datasets.dataset_info(name)
    ((x_train, y_train), (x_test, y_test)), source = sources.load_arrays(
        name, data_dir=sources.DEBIAN_DIR if name == "fashion_mnist" else None, with_info=True)
    assert x_train.shape[1:] == x_test.shape[1:] == info.input_shape and x_train.dtype == np.float32
    if info.value_range is not None:
        low, high = info.value_range
        assert low <= x_train.min() and x_train.max() <= high and x_train.min() == info.background
    assert source.class_names is info.class_names
    assert set(np.unique(y_train)) == set(range(len(info.class_names)))
    assert source.source == info.source or (info.source == "files" and os.path.isdir(source.source))
    counts = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) train / ([\d,]+) test", info.summary)[0]]
    assert counts == [len(x_train), len(x_test)]


def test_the_zoo_reads_the_table():
    from constrained_zoo import models
    from constrained_zoo.models import weights
    from constrained_zoo.training import data

    assert models.dataset_info is datasets.dataset_info and models.class_names is datasets.class_names
    assert weights.PUBLISHED_DATASETS == tuple(datasets.list_datasets(published=True))
    assert sorted(data.NAMED_DATASETS) == data.list_datasets() == NAMES
    for name in models.list_models():  # a model's datasets are of its rank; the defaults are the table's order
        entry = models.model_entry(name)
        assert set(entry.datasets) <= set(datasets.meant_for_rank(entry.rank)), name
    assert models.model_entry("cnn_small").datasets == datasets.meant_for_rank(2)
    assert models.model_entry("cnn1d_small").datasets == datasets.meant_for_rank(1)


def test_the_sweep_takes_a_datasets_rank_from_the_table(monkeypatch):
    from constrained_zoo import models
    from constrained_zoo.training import sweep

    assert sweep.select_models("*", "mnist1d") == [n for n in models.list_models() if models.model_entry(n).rank == 1]
    assert sweep.select_models("cnn_small,cnn1d_small", "cifar10") == ["cnn_small"]  # a TFDS name: images


def _dataset_literals(path):
    """(line, what) of each dict keyed by a dataset name, or tuple/list/set of dataset names, in `path`."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    assigned = {id(node.value): [getattr(t, "id", None) for t in node.targets]
                for node in ast.walk(tree) if isinstance(node, ast.Assign)}
    keyword_values = {id(k.value) for node in ast.walk(tree) if isinstance(node, ast.Call) for k in node.keywords
                      if k.arg == "datasets"}  # a model's own choice: @register_model(datasets=(...))

    def names(nodes):
        return [n.value for n in nodes if isinstance(n, ast.Constant) and n.value in NAMES]

    for node in ast.walk(tree):
        found = names(node.keys) if isinstance(node, ast.Dict) else \
            names(node.elts) if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else []
        if found and id(node) not in keyword_values:
            yield node.lineno, found, assigned.get(id(node), [None])[0]


def test_no_other_table_of_dataset_facts():
    """No dict keyed by dataset names, and no tuple or list of them, outside the table (the code, not its docs)."""
    stray = []
    for path in CODE:
        if os.path.samefile(path, TABLE):
            continue
        relative = os.path.relpath(path, REPO)
        stray += [f"{relative}:{line}: {found} ({target or 'unnamed'})" for line, found, target in _dataset_literals(path)
                  if (relative, target) not in NOT_FACTS]
    assert not stray, "dataset facts outside constrained_zoo/datasets.py:\n" + "\n".join(stray)


def test_the_scan_finds_a_stray_table(tmp_path):
    path = tmp_path / "stray.py"
    path.write_text('SEQUENCE_DATASETS = ("mnist1d",)\nif name in ("digits", "mnist1d"):\n    pass\n'
                    'SHAPES = {"digits": (8, 8, 1)}\n@register_model(family="mlp", datasets=("digits",))\ndef f(): pass\n')
    found = sorted((line, target or "") for line, _, target in _dataset_literals(path))
    assert found == [(1, "SEQUENCE_DATASETS"), (2, ""), (4, "SHAPES")]


def test_the_data_pipeline_reads_the_table_without_keras_or_the_models():
    code = ("import sys; import constrained_zoo.training.data, constrained_zoo.training.data.split; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'constrained_layers') "
            "or m.startswith('constrained_zoo.models')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.strip() == "[]"

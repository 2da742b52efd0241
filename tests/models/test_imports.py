"""`constrained_zoo.models.weights` builds no model: of `models`, it imports only leaves.

The import rules of every package (no cycle, lazy imports included;
`models` never imports `training`) are tests/test_layout.py's; this file
reads the same import graph for the one rule of `models` alone.
"""

import pytest

from tests.test_layout import _graph

ZOO = "constrained_zoo.models"


@pytest.mark.parametrize("name, leaves", [
    ("constrained_zoo.models.weights", {"constrained_zoo.models.architecture", "constrained_zoo.models.manifest"}),
    ("constrained_zoo.models.manifest", {"constrained_zoo.models.architecture", "constrained_zoo.models.datasets"}),
    ("constrained_zoo.models.datasets", set()),
    ("constrained_zoo.models.architecture", set()),
])
def test_the_weights_module_builds_no_model(name, leaves):
    """constrained_zoo.models.weights reaches no builder: of models, it imports only leaves that import nothing of models."""
    imported = _graph()[name]
    assert {m for m in imported if m == ZOO or m.startswith(ZOO + ".")} == leaves, imported


def test_the_graph_is_read():
    graph = _graph()
    assert "constrained_zoo.models.weights" in graph["constrained_zoo.models._registry"]  # the registry uses weights
    assert {"constrained_zoo.models._registry", "constrained_zoo.models.weights"} <= graph[ZOO]

"""`models/` imports in one direction: no module of it imports itself back, and none imports `training`.

The graph is read from the source with `ast` (every `import`, including those
inside functions), so a cycle hidden in a function body counts too. A node is
a module of `constrained_zoo.models` by its only name (`constrained_zoo.models`
itself is `models/__init__.py`); importing `constrained_zoo.models.x` is an
edge to it only (Python's own import of the parent
package first is not an edge, or every submodule would form a cycle with
`__init__`).
"""

import ast
import pathlib

import pytest

from constrained_zoo import models

PACKAGE = pathlib.Path(models.__file__).parent


def _modules():
    """{module name: path} for every `.py` file of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(("constrained_zoo",) + (parts[:-1] if parts[-1] == "__init__" else parts))] = path
    return found


def _imports(name, path, modules):
    """The modules of `modules` that `name` (at `path`) imports, and every module it imports at all."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    edges, everything = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from a import b`: b is a module of a, or a name defined in a.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        everything.update(targets)
        edges.update(t for t in targets if t in modules and t != name)
    return edges, everything


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph):
    """One import cycle as a list of modules (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_is_read():
    graph = {name: edges for name, (edges, _) in _graph().items()}
    assert "constrained_zoo.models.weights" in graph["constrained_zoo.models._registry"]  # the registry uses weights
    assert {"constrained_zoo.models._registry", "constrained_zoo.models.weights"} <= graph["constrained_zoo.models"]


def test_models_has_no_import_cycle():
    graph = {name: edges for name, (edges, _) in _graph().items()}
    cycle = _cycle(graph)
    assert cycle is None, f"import cycle in models/: {' -> '.join(cycle)}"


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name, leaves", [
    ("constrained_zoo.models.weights", {"constrained_zoo.models.architecture", "constrained_zoo.models.manifest"}),
    ("constrained_zoo.models.manifest", {"constrained_zoo.models.architecture"}),
    ("constrained_zoo.models.architecture", set()),
])
def test_the_weights_module_builds_no_model(name, leaves):
    """constrained_zoo.models.weights reaches no builder: of models, it imports only the manifest and the architecture."""
    _, imported = _graph()[name]
    zoo = "constrained_zoo.models"
    assert {m for m in imported if m == zoo or m.startswith(zoo + ".")} == leaves, imported


def test_models_knows_nothing_of_training():
    offenders = {name: sorted(m for m in imported if m.split(".")[0] == "training"
                              or m.startswith("constrained_zoo.training"))
                 for name, (_, imported) in _graph().items()}
    assert not {name: found for name, found in offenders.items() if found}

"""The room a newcomer reads: small modules and functions, imports that flow one way and never in a circle.

Over every package of the project (`constrained_layers`, `constrained_zoo`,
`models`, `training`, `benchmarks`) and the notebooks' helpers:

- no module over 350 lines, no function over 60 (counted from `def` to its
  last line, its docstring left out);
- no import cycle, imports inside functions included: a module is a node by
  its importable name (`models/x.py` is `constrained_zoo.models.x`), and
  importing `a.b` is an edge to `a.b` only (Python's import of the parent
  package first is not an edge, or every submodule would form a cycle with
  its `__init__`);
- `constrained_layers` imports neither `models` nor `training`; `models`
  does not import `training`; no package uses another's private names
  (a module or name starting with `_`, dunders aside; the benchmarks may).
"""

import ast
import glob
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60
#: Each folder of the project and the name its modules are imported by.
PACKAGES = {"constrained_layers": "constrained_layers", "constrained_zoo": "constrained_zoo",
            "models": "constrained_zoo.models", "training": "constrained_zoo.training", "benchmarks": "benchmarks"}
HELPERS = {name: os.path.join(REPO, "notebooks", f"{name}.py") for name in ("chapter_helpers", "exercise_helpers")}


def _modules():
    """{importable name: path} of every module the layout rules cover."""
    found = {}
    for folder, name in PACKAGES.items():
        for path in sorted(glob.glob(os.path.join(REPO, folder, "**", "*.py"), recursive=True)):
            parts = os.path.relpath(path, os.path.join(REPO, folder))[:-len(".py")].split(os.sep)
            found[".".join([name, *(parts[:-1] if parts[-1] == "__init__" else parts)])] = path
    return {**found, **HELPERS}


MODULES = _modules()


def _tree(path):
    with open(path, encoding="utf-8") as f:
        return ast.parse(f.read(), path)


def _function_lines(node):
    lines = node.end_lineno - node.lineno + 1
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines -= body[0].end_lineno - body[0].lineno + 1
    return lines


def test_every_package_is_covered():
    covered = {os.path.relpath(path, REPO).split(os.sep)[0] for path in MODULES.values()}
    assert covered == {*PACKAGES, "notebooks"}
    assert "constrained_zoo.training.data.sources" in MODULES and "constrained_layers.base" in MODULES


@pytest.mark.parametrize("path", sorted(MODULES.values()), ids=lambda p: os.path.relpath(p, REPO))
def test_small_modules_and_functions(path):
    with open(path, encoding="utf-8") as f:
        assert len(f.readlines()) <= MAX_MODULE_LINES
    long = [(node.name, _function_lines(node)) for node in ast.walk(_tree(path))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _function_lines(node) > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _imports(name, path):
    """(module, names) of every import in module `name` at `path`, relative ones resolved."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[:len(parts) - (node.level - 1)]) if node.level else ""
            yield ".".join(p for p in (base, node.module or "") if p), [alias.name for alias in node.names]


def _graph(modules=MODULES):
    """{module: the project's modules it imports, anywhere in its body}."""
    graph = {}
    for name, path in modules.items():
        edges = set()
        for module, names in _imports(name, path):
            # `from a import b`: b is a module of a, or a name defined in a.
            targets = [f"{module}.{n}" if f"{module}.{n}" in modules else module for n in names] or [module]
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


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
    graph = _graph()
    assert "constrained_zoo.training.data.catalog" in graph["constrained_zoo.training.data.tfds"]  # lazy or not
    assert "constrained_layers.base" in graph["constrained_layers.windowed"]
    assert {"chapter_helpers", "constrained_zoo.models"} <= graph["exercise_helpers"]


def test_no_import_cycle_lazy_imports_included():
    cycle = _cycle(_graph())
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _top(module):
    """The project's package of an imported name: constrained_layers, models, training, or another."""
    parts = module.split(".")
    if parts[0] == "constrained_zoo" and len(parts) > 1:
        return parts[1]
    return parts[0]


@pytest.mark.parametrize("package, forbidden", [
    ("constrained_layers", {"models", "training"}),
    ("constrained_zoo.models", {"training"}),
])
def test_imports_flow_one_way(package, forbidden):
    found = [(name, module) for name, path in MODULES.items() if name.split(".")[:len(package.split("."))]
             == package.split(".") for module, _ in _imports(name, path) if _top(module) in forbidden]
    assert not found


def test_no_package_uses_another_packages_private_names():
    """(The benchmarks measure the layers' internals, the FFT crossover among them, on purpose.)"""
    found = []
    for name, path in MODULES.items():
        own = _top(name)
        if own == "benchmarks":
            continue
        for module, names in _imports(name, path):
            if _top(module) in ("constrained_layers", "models", "training") and _top(module) != own:
                private = [p for p in module.split(".") + names if p.startswith("_") and not p.startswith("__")]
                if private:
                    found.append((name, module, private))
    assert not found

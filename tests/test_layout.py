"""The room a newcomer reads: small modules and functions, imports that flow one way.

- No module of `training/` or `models/` over 350 lines, no function over 60
  (counted from `def` to its last line, its docstring left out).
- `constrained_layers` imports neither `models` nor `training`; `models`
  does not import `training`; no package uses another's private names
  (a module or name starting with `_`, dunders aside).
"""

import ast
import glob
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


def _modules(*packages):
    for package in packages:
        yield from sorted(glob.glob(os.path.join(REPO, package, "**", "*.py"), recursive=True))


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


@pytest.mark.parametrize("path", list(_modules("training", "models")), ids=lambda p: os.path.relpath(p, REPO))
def test_small_modules_and_functions(path):
    with open(path, encoding="utf-8") as f:
        assert len(f.readlines()) <= MAX_MODULE_LINES
    long = [(node.name, _function_lines(node)) for node in ast.walk(_tree(path))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _function_lines(node) > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _imports(path):
    """(module, names) of every import in `path`, relative ones resolved to the canonical package."""
    package = os.path.relpath(os.path.dirname(path), REPO).replace(os.sep, ".")
    if package.split(".")[0] in ("models", "training"):
        package = "constrained_zoo." + package
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            yield module, [alias.name for alias in node.names]


def _top(module):
    parts = module.split(".")
    if parts[0] == "constrained_zoo" and len(parts) > 1:
        return parts[1]
    return parts[0]


@pytest.mark.parametrize("package, forbidden", [
    ("constrained_layers", {"models", "training"}),
    ("models", {"training"}),
])
def test_imports_flow_one_way(package, forbidden):
    found = [(os.path.relpath(path, REPO), module) for path in _modules(package)
             for module, _ in _imports(path) if _top(module) in forbidden]
    assert not found


def test_no_package_uses_another_packages_private_names():
    found = []
    for package in ("constrained_layers", "models", "training"):
        for path in _modules(package):
            for module, names in _imports(path):
                if _top(module) in ("constrained_layers", "models", "training") and _top(module) != package:
                    private = [p for p in module.split(".") + names if p.startswith("_") and not p.startswith("__")]
                    if private:
                        found.append((os.path.relpath(path, REPO), module, private))
    assert not found

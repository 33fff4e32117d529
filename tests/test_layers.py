"""The package graph runs one way: every import, including those inside functions, under TYPE_CHECKING and
module paths named in strings (lazy registries), points to the same or a lower layer; packages form no cycle; and
no private name (``_x``) is imported across a package boundary.

This is the AST check docs/architecture.md promises (an import-linter ``layers`` contract would miss imports of
private names and module paths held in strings).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import alignlab

SRC = Path(alignlab.__file__).parent
# Top to bottom. A package may import its own layer or any below it; packages in one layer must not form a cycle.
LAYERS: list[set[str]] = [
    {"cli", "testing", "alignlab"},  # "alignlab": the root package's __init__ (its lazy ``alignlab.evaluate``)
    {"goals", "arena"},
    {"align"},
    {"report"},
    {"evaluate"},
    {"plans"},
    {"targets", "data", "models", "suites"},
    {"errors", "paths", "files", "registry", "progress", "atomic", "assignments", "located_yaml"},
]
LAYER_OF = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
MODULE_IN_STRING = re.compile(r"^alignlab(\.[A-Za-z_]\w*)+(:\w+)?$")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """The top-level package of ``alignlab.X...`` (root modules such as ``alignlab.errors`` are their own)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "alignlab"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, imported names) for every alignlab import in the file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.startswith("alignlab.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("alignlab."):
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.ImportFrom) and node.module == "alignlab":
            found += [(node.lineno, f"alignlab.{a.name}", []) for a in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_IN_STRING.match(node.value):
            found.append((node.lineno, node.value.partition(":")[0], []))
    return found


def _edges() -> list[tuple[str, int, str, str, list[str]]]:
    """(importing file, line, importing package, imported module, names) for imports that cross packages."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "__main__.py":  # an entry point (`python -m alignlab.align`) sits with the CLI, on top
            continue
        here = _package(_module_name(path))
        for line, module, names in _imports(path):
            there = _package(module)
            if there != here:
                out.append((str(path.relative_to(SRC.parent)), line, here, module, names))
    return out


def test_every_package_has_a_layer() -> None:
    packages = {_package(_module_name(p)) for p in SRC.rglob("*.py")}
    assert packages - set(LAYER_OF) == set(), "give each new package a layer in LAYERS (and docs/architecture.md)"


def test_imports_run_down_the_layers() -> None:
    upward = [f"{f}:{line}: {here} (layer {LAYER_OF[here]}) imports {module} (layer {LAYER_OF[_package(module)]})"
              for f, line, here, module, _ in _edges() if LAYER_OF[_package(module)] < LAYER_OF[here]]
    assert upward == [], "imports that run up the layers:\n" + "\n".join(upward)


def test_packages_form_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for _, _, here, module, _ in _edges():
        graph[here].add(_package(module))
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "package cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_no_private_name_crosses_a_package_boundary() -> None:
    private = []
    for f, line, _, module, names in _edges():
        # every part below the root counts: a private root module (alignlab._x) is private to the root too
        hidden = [p for p in module.split(".")[1:] if p.startswith("_")] + [n for n in names if n.startswith("_")]
        if hidden:
            private.append(f"{f}:{line}: {module} {names}")
    assert private == [], "private names imported from another package:\n" + "\n".join(private)


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checker must count an import buried in a function and a module path in a string."""
    code = "def f():\n    from alignlab.cli.main import app\n    return 'alignlab.goals._loop:run_goal'\n"
    path = tmp_path / "x.py"
    path.write_text(code)
    assert [(line, m) for line, m, _ in _imports(path)] == [(2, "alignlab.cli.main"), (3, "alignlab.goals._loop")]

"""Which modules of one package import which others (relative imports resolved, lazy and type-checking
imports included), and the circles among them: the data behind ``tests/test_import_circles.py``."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.import_scan import ROOT

__all__ = ["import_circles", "module_graph"]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a (possibly relative) ``from ... import`` names."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def module_graph(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """``{module: modules of the same package it imports}``, relative imports resolved, lazy and
    ``TYPE_CHECKING`` imports included (a circle through either is still a circle to a reader); the
    enclosing packages a module sits in are left out (Python imports them first, whatever it says)."""
    files = {_module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    assert files, f"the scan found no files under {package}/"
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, module, is_package)
                targets.add(source)
                targets.update(f"{source}.{alias.name}" for alias in node.names)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                targets.add(str(node.args[0].value))
        # a module's own enclosing packages are always imported before it: not an edge of a circle
        ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        graph[module] = {t for t in targets if t in files and t != module and t not in ancestors}
    return graph


def import_circles(package: str, root: Path = ROOT) -> list[list[str]]:
    """Every strongly connected group of modules that import each other (directly or around a loop)."""
    graph = module_graph(package, root)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(circles)

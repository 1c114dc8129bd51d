"""The suite, the benches and the examples are packages run from the repository root (``python -m``): every test folder has its
``__init__.py`` and nothing edits ``sys.path`` to find a helper (shared ones live in ``tests/support``)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.import_scan import ROOT


def _edits_sys_path(tree: ast.AST) -> bool:
    def is_sys_path(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", "") == "sys"

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_sys_path(node.func.value):
            return True  # sys.path.insert / append / extend ...
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, (ast.AugAssign, ast.AnnAssign))
            else []
        )
        if any(is_sys_path(t) or isinstance(t, ast.Subscript) and is_sys_path(t.value) for t in targets):
            return True  # sys.path = ..., sys.path[:0] = ..., sys.path += ...
    return False


def _sources() -> list[Path]:
    return sorted(p for d in ("tests", "bench", "examples") for p in (ROOT / d).rglob("*.py"))


def test_every_test_folder_is_a_package():
    folders = {p.parent for p in _sources()}
    assert len(folders) > 5
    assert sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").is_file()) == []


def test_no_test_or_bench_edits_sys_path():
    offenders = [str(p.relative_to(ROOT)) for p in _sources() if _edits_sys_path(ast.parse(p.read_text()))]
    assert offenders == []


def test_the_scan_sees_each_way_of_editing_sys_path():
    p = "sys." + "path"  # spelled apart so this file is not itself an example of what it looks for
    for edit in (
        f"{p}.insert(0, 'x')",
        f"{p}[:0] = ['x']",
        f"{p} += ['x']",
        f"{p} = ['x']",
        f"def f():\n    {p}.append('x')",
    ):
        assert _edits_sys_path(ast.parse("import sys\n" + edit)), edit
    assert not _edits_sys_path(ast.parse(f"import sys\nprint({p}[0])\npaths = list({p})"))

"""Every xfail in the suite names the exception it expects (``raises=``).

An xfail without it absorbs any failure of the test, a typo or a broken fixture as much as the upstream
fault it was written for; with it, any other exception fails the run."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _xfails(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "xfail"
                and isinstance(func.value, ast.Attribute)
                and func.value.attr == "mark"
            ):
                yield node  # pytest.mark.xfail(...); pytest.xfail() inside a test is a deliberate stop


def test_every_xfail_names_its_exception():
    found, bare = 0, []
    for path in sorted(TESTS.rglob("*.py")):
        for call in _xfails(ast.parse(path.read_text(), str(path))):
            found += 1
            if not any(k.arg == "raises" for k in call.keywords):
                bare.append(f"{path.relative_to(TESTS)}:{call.lineno}")
    assert found >= 2  # the scan sees the suite's xfails (tests/adapters/test_stack.py, test_seq_cls_prefix.py)
    assert bare == []


def test_the_scan_catches_a_bare_xfail():
    tree = ast.parse(
        "import pytest\n@pytest.mark.xfail(True, reason='x', strict=True)\ndef test_a(): pass\n"
        "pytest.xfail('imperative')\n"
    )
    calls = list(_xfails(tree))
    assert len(calls) == 1 and not any(k.arg == "raises" for c in calls for k in c.keywords)

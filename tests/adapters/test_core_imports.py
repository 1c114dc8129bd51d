"""Imports flow one way: hub_client -> adapters. The ML core never imports the hub client, not even lazily."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "adapters"


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            found.add(str(node.args[0].value))
    return found


def test_adapters_never_imports_the_hub_client():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 10  # the scan really looked at the package
    offenders = {str(p.relative_to(CORE)): sorted(m for m in _imported_modules(p) if m.split(".")[0] == "hub_client")
                 for p in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_adapters_does_not_even_name_the_hub_client():
    assert [str(p) for p in CORE.rglob("*.py") if "hub_client" in p.read_text(encoding="utf-8")] == []


def test_the_scan_sees_a_lazy_import(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from hub_client import HubClient\n    import importlib\n"
                      "    importlib.import_module('hub_client.refs')\n")
    assert {"hub_client", "hub_client.refs"} <= _imported_modules(sample)

"""Which modules a source file imports, found with ``ast`` (lazy imports and ``import_module`` calls
included), so each package's import rule is checked the same way."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def offenders(package: str, forbidden: set[str]) -> dict[str, list[str]]:
    """Files of ``package`` importing any top-level name in ``forbidden`` (empty when the rule holds)."""
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 5, f"the scan found no files under {package}/"
    found = {
        str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p) if m.split(".")[0] in forbidden) for p in files
    }
    return {k: v for k, v in found.items() if v}

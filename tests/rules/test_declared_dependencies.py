"""Declared dependencies match imports: every third-party module our packages import comes from a
distribution ``pyproject.toml`` declares for that package (core, or the package's extra), and no module
imports another module's private names."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
from tests.support.import_scan import imported_modules

OURS = {"adapters", "hub_client", "hub_rules", "hub_server", "hub_serving", "hub_worker"}
# which extras (beyond the core dependencies) each package may rely on
EXTRAS = {
    "hub_rules": set(),
    "hub_client": set(),
    "adapters": {"ml"},
    "hub_server": {"server"},
    "hub_serving": {"ml", "server", "serve"},
    "hub_worker": {"ml", "server"},
}
# a command that starts another package's process needs that package's extra
FILE_EXTRAS = {
    "hub_client/cli/server_commands.py": {"server"},
    "hub_client/cli/serve_commands.py": {"ml", "server", "serve"},
}


def _declared() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    return {group: {canonicalize_name(Requirement(line).name) for line in lines} for group, lines in groups.items()}


def _third_party(path: Path) -> set[str]:
    tops = {name.split(".")[0] for name in imported_modules(path)}
    return {top for top in tops if top and top not in OURS and top not in sys.stdlib_module_names}


def _undeclared(package: str, declared: dict[str, set[str]]) -> dict[str, list[str]]:
    owners = packages_distributions()
    found: dict[str, list[str]] = {}
    files = sorted((ROOT / package).rglob("*.py"))
    assert len(files) > 2, f"the scan found no files under {package}/"
    for path in files:
        rel = str(path.relative_to(ROOT))
        allowed = set(declared[""]).union(*(declared[g] for g in EXTRAS[package] | FILE_EXTRAS.get(rel, set())))
        for top in sorted(_third_party(path)):
            dists = {canonicalize_name(d) for d in owners.get(top, [])}
            if not dists & allowed:
                found.setdefault(rel, []).append(f"{top} ({', '.join(sorted(dists)) or 'not installed'})")
    return found


def test_every_import_is_declared_in_the_right_extra():
    declared = _declared()
    problems = {package: _undeclared(package, declared) for package in EXTRAS}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_check_notices_an_undeclared_import():
    declared = _declared()
    without = {group: names - {"filelock"} for group, names in declared.items()}
    assert any("filelock" in v for vs in _undeclared("adapters", without).values() for v in vs)
    server_only = {**declared, "": declared[""] - {"httpx"}}
    assert "hub_client/_http.py" in _undeclared("hub_client", server_only)
    # the server's dependencies are not the client's
    assert "torch" not in declared[""] | declared["server"]


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found += [
                f"{module}.{a.name}" for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
            ]
            if any(part.startswith("_") and not part.startswith("__") for part in (node.module or "").split(".")) and (
                node.level == 0 and node.module.split(".")[0] not in OURS
            ):
                found.append(module)
        elif isinstance(node, ast.Import):
            found += [
                a.name
                for a in node.names
                if a.name.split(".")[0] not in OURS and any(p.startswith("_") for p in a.name.split(".")[1:])
            ]
    return found


def test_no_module_imports_private_names():
    found = {}
    for package in EXTRAS:
        for path in sorted((ROOT / package).rglob("*.py")):
            names = _private_imports(path)
            if names:
                found[str(path.relative_to(ROOT))] = names
    assert found == {}


def test_the_private_name_scan_sees_one(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("from .stack import _label, adapter_front\nfrom model_signing._signing import x\n")
    assert _private_imports(sample) == [".stack._label", "model_signing._signing"]

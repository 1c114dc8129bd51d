"""Imports flow one way: hub_client -> adapters. The ML core never imports the hub client, not even lazily."""

from __future__ import annotations

from pathlib import Path

from tests.support.import_scan import imported_modules, offenders

CORE = Path(__file__).resolve().parents[2] / "adapters"


def test_adapters_never_imports_the_hub_client():
    assert offenders("adapters", {"hub_client", "hub_server"}) == {}


def test_adapters_does_not_even_name_the_hub_client():
    assert [str(p) for p in CORE.rglob("*.py") if "hub_client" in p.read_text(encoding="utf-8")] == []


def test_the_scan_sees_a_lazy_import(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text(
        "def f():\n    from hub_client import HubClient\n    import importlib\n"
        "    importlib.import_module('hub_client.refs')\n"
    )
    assert {"hub_client", "hub_client.refs"} <= imported_modules(sample)

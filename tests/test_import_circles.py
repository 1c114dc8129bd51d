"""No import circles inside a package: a registry imports its entries, a shared type lives in a module of its
own, and no two modules import each other, not even lazily or only for type checking."""

from __future__ import annotations

import pytest

from tests.support.import_graph import import_circles
from tests.support.import_scan import ROOT

NOT_PRODUCT = {"tests", "bench", "examples", "tools"}
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file() and p.name not in NOT_PRODUCT)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "hub_server"])
def test_no_import_circles(package):
    assert import_circles(package) == []


def test_no_import_circles_in_the_server():
    assert import_circles("hub_server") == []


def test_every_package_is_scanned():
    assert {"adapters", "hub_client", "hub_rules", "hub_server"} <= set(PACKAGES)


def test_the_scan_finds_a_lazy_relative_circle_and_ignores_the_enclosing_package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("from . import b\n\ndef f():\n    return b\n")
    (pkg / "b.py").write_text("def g():\n    from .sub.c import h\n    return h\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..a import f\nfrom pkg import a\n"
    )
    assert import_circles("pkg", tmp_path) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    (pkg / "sub" / "c.py").write_text("def h():\n    return 1\n")
    assert import_circles("pkg", tmp_path) == []

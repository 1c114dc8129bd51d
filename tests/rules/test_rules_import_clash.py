"""AdapterHub's ``adapters`` distribution beside ours: ``import adapters`` warns once, ``hub`` refuses in one
line before any command runs, and neither says a word when it is absent.

The foreign distribution is real metadata (a ``adapters-1.3.0.dist-info`` with METADATA and RECORD) on a
subprocess's path, after ours, so our package is still the one imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGE_START = "AdapterHub's `adapters` distribution 1.3.0 is installed in this environment"
ADVICE = (
    "shares the import name `adapters` with Adapter Hub's ML core; use a separate virtual environment for "
    "Adapter Hub, or run `pip uninstall adapters` in this one"
)


def _foreign_site(root: Path) -> Path:
    dist = root / "adapters-1.3.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: adapters\nVersion: 1.3.0\n"
        "Summary: A Unified Library for Parameter-Efficient and Modular Transfer Learning\n"
    )
    (dist / "RECORD").write_text(
        "adapters/__init__.py,,\nadapters-1.3.0.dist-info/METADATA,,\nadapters-1.3.0.dist-info/RECORD,,\n"
    )
    return root


def _run(args: list[str], tmp_path: Path, site: Path | None) -> subprocess.CompletedProcess:
    path = [str(ROOT), os.environ.get("PYTHONPATH", "")] + ([str(site)] if site else [])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
    }
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path, check=False
    )


@pytest.fixture()
def site(tmp_path):
    return _foreign_site(tmp_path / "site")


def test_import_adapters_warns_once_in_one_line(site, tmp_path):
    done = _run(["-c", "import adapters, adapters.card, adapters.registry; print(adapters.__file__)"], tmp_path, site)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "adapters" / "__init__.py"  # ours is still the one imported
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "AdaptersNameClash: " + MESSAGE_START in lines[0] and lines[0].endswith(ADVICE)
    assert str(site) in lines[0]


def test_the_warning_is_ours_and_catchable(site, tmp_path):
    code = (
        "import warnings\nwith warnings.catch_warnings(record=True) as seen:\n    warnings.simplefilter('always')\n"
        "    import adapters\nprint([type(w.message).__name__ for w in seen], "
        "[w.category is adapters.AdaptersNameClash for w in seen])"
    )
    done = _run(["-c", code], tmp_path, site)
    assert done.stdout.strip() == "['AdaptersNameClash'] [True]", done.stderr


def test_hub_refuses_in_one_line_before_any_command(site, tmp_path):
    done = _run(["-m", "hub_client.cli", "methods"], tmp_path, site)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: " + MESSAGE_START) and lines[0].endswith(ADVICE)
    version = _run(["-m", "hub_client.cli", "--version"], tmp_path, site)  # needs nothing of the core
    assert version.returncode == 0 and "AdapterHub" not in version.stderr


def test_no_message_without_the_foreign_distribution(tmp_path):
    imported = _run(["-W", "error", "-c", "import adapters"], tmp_path, None)
    assert imported.returncode == 0 and imported.stderr == ""
    listed = _run(["-m", "hub_client.cli", "methods", "--json"], tmp_path, None)
    assert listed.returncode == 0 and "AdapterHub" not in listed.stderr
    assert '"name": "lora"' in listed.stdout


def test_in_process_rule_reads_metadata_only(site, monkeypatch):
    import importlib

    from hub_rules.import_clash import adapters_clash

    assert adapters_clash() is None
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    message = adapters_clash()
    assert message is not None and message.startswith(MESSAGE_START) and "\n" not in message

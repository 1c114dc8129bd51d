"""One place per setting: each package reads its environment through its settings module, values are read
when asked for (not at import), bad values are refused in one line, and the README's tables are the
modules' own words."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub_rules import SettingInvalid
from hub_rules.env_settings import parse_bool

ROOT = Path(__file__).resolve().parents[2]
from tools import settings_table

SETTINGS_MODULES = {
    "hub_client/settings.py",
    "adapters/settings.py",
    "hub_server/settings.py",
    "hub_rules/env_settings.py",
}


def _environment_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read the environment (``os.environ`` loads and ``.get``, ``os.getenv``); an
    assignment ``os.environ[...] = ...`` hands a value to a child process and is not a read."""
    stores, reads = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store)
            and getattr(node.value, "attr", None) == "environ"
        ):
            stores.add(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv")
            and getattr(node.value, "id", None) == "os"
        ):
            reads.add(node.lineno)
    return sorted(reads - stores)


def test_only_the_settings_modules_read_the_environment():
    readers = {}
    for package in ("hub_client", "adapters", "hub_rules", "hub_server"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            found = _environment_reads(path)
            if found and rel not in SETTINGS_MODULES:
                readers[rel] = found
    assert readers == {}, f"read the environment outside the settings modules: {readers}"


def test_the_scan_sees_a_reader(tmp_path):
    sample = tmp_path / "reader.py"
    sample.write_text("import os\n\nx = os.environ.get('HUB_X')\ny = os.getenv('HUB_Y')\nos.environ['HUB_Z'] = '1'\n")
    assert _environment_reads(sample) == [3, 4]


def test_client_settings_are_read_when_asked(monkeypatch, tmp_path):
    from hub_client import config
    from hub_client.settings import settings

    monkeypatch.setenv("HUB_ENDPOINT", "http://first.example/")
    assert config.resolve_endpoint(None) == "http://first.example"
    monkeypatch.setenv("HUB_ENDPOINT", "http://second.example")
    assert config.resolve_endpoint(None) == "http://second.example"
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("HUB_MAX_RATE_WAIT", "2.5")
    monkeypatch.setenv("HUB_REQUIRE_SIGNED", "off")
    current = settings()
    assert (current.cache, current.max_rate_wait, current.require_signed) == (tmp_path / "c", 2.5, False)
    assert config.cache_dir() == tmp_path / "c"
    assert settings({}).max_rate_wait == 10.0 and settings({}).require_signed is None


def test_core_settings_defaults_and_overrides(monkeypatch, tmp_path):
    from adapters.settings import settings, user_cache_path

    defaults = settings({})
    assert defaults.base_index_file() == user_cache_path("bases.json")
    assert defaults.train_max_steps is None and defaults.hf_hub_offline is False
    monkeypatch.setenv("HUB_BASE_INDEX", str(tmp_path / "i.json"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "TRUE")
    monkeypatch.setenv("HUB_TRAIN_MAX_STEPS", "3")
    current = settings()
    assert (current.base_index_file(), current.hf_hub_offline, current.train_max_steps) == (
        tmp_path / "i.json",
        True,
        3,
    )


@pytest.mark.parametrize(
    "env, value, words",
    [
        ("HUB_REQUIRE_SIGNED", "maybe", "must be one of 1/true/yes/on or 0/false/no/off"),
        ("HUB_MAX_RATE_WAIT", "soon", "must be a number"),
    ],
)
def test_a_bad_client_value_names_its_variable(env, value, words):
    from hub_client.settings import settings

    with pytest.raises(SettingInvalid) as caught:
        settings({env: value})
    assert str(caught.value) == f"{env} {words}, got {value!r}"


def test_a_bad_core_value_is_an_adapter_error(monkeypatch):
    from adapters.errors import AdapterError
    from adapters.training.run import _capped

    monkeypatch.setenv("HUB_TRAIN_MAX_STEPS", "two")
    with pytest.raises(AdapterError, match=r"^HUB_TRAIN_MAX_STEPS must be a whole number, got 'two'$"):
        _capped(10, None)
    monkeypatch.setenv("HUB_TRAIN_MAX_STEPS", "0")
    with pytest.raises(AdapterError, match="at least 1"):
        _capped(10, None)
    monkeypatch.setenv("HUB_TRAIN_MAX_STEPS", "4")
    assert _capped(10, 3.0) == (4, None) and _capped(2, None) == (2, None)


def test_booleans_take_the_usual_words():
    assert [parse_bool("X", w) for w in ("1", "yes", "On", "TRUE")] == [True] * 4
    assert [parse_bool("X", w) for w in ("0", "no", "Off", "false")] == [False] * 4
    with pytest.raises(SettingInvalid, match="^X must be one of"):
        parse_bool("X", "2")


def test_the_cli_refuses_a_bad_value_in_one_line(tmp_path):
    env = {**os.environ, "HUB_NO_PROGRESS": "sometimes", "HUB_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", "cache", "ls"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    assert run.stderr.strip() == (
        "error: HUB_NO_PROGRESS must be one of 1/true/yes/on or 0/false/no/off, got 'sometimes'"
    )
    assert not (tmp_path / "cache").exists()


def test_every_server_setting_says_what_it_does():
    from hub_server.settings import Settings

    missing = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert missing == []
    assert "HUB_MAX_FILES_PER_VERSION" in (ROOT / "README.md").read_text()


def test_readme_tables_match_the_settings_modules():
    readme = (ROOT / "README.md").read_text()
    assert settings_table.rewrite(readme) == readme, "run: python tools/settings_table.py"
    rows = [line for line in settings_table.render().splitlines() if line.startswith("| `")]
    assert len(rows) >= 26 + 9 + 5
    for row in rows:
        assert row in readme


def test_the_drift_check_notices(tmp_path):
    readme = (ROOT / "README.md").read_text()
    stale = tmp_path / "README.md"
    stale.write_text(readme.replace("| `HUB_MAX_JSON_DEPTH` | 32 |", "| `HUB_MAX_JSON_DEPTH` | 64 |"))
    assert stale.read_text() != readme
    assert settings_table.main(["--check", str(stale)]) == 1
    assert settings_table.main([str(stale)]) == 0
    assert stale.read_text() == readme

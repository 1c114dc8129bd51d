"""`hub run`, `hub merge`, `hub combine` with no --base, against a real hub: the base is found by the
adapters' pin in the local index, or as a `base` repo on the hub (pulled, its weights checked). A hub repo
that claims the fingerprint but holds other weights is refused, and so is a local base rebuilt with other
weights under the same name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir


def _fresh_machine(monkeypatch, root: Path, name: str) -> None:
    """A new empty client cache and base index, as on another machine."""
    monkeypatch.setenv("HUB_CACHE", str(root / name / "cache"))
    monkeypatch.setenv("HUB_BASE_INDEX", str(root / name / "bases.json"))


@pytest.fixture
def env(hub_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_ENDPOINT", hub_server.url)
    monkeypatch.setenv("HUB_TOKEN", hub_server.token("alice"))
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HUB_FINGERPRINT_CACHE", str(tmp_path / "fp.json"))
    monkeypatch.setenv("HUB_BASE_CACHE", str(tmp_path / "no-default-base"))
    monkeypatch.setenv("HUB_NO_PROGRESS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _fresh_machine(monkeypatch, tmp_path, "trainer")
    return tmp_path


def hub(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def hub_fails(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, (args, result.output)
    assert "Traceback" not in result.output
    return result.output


def _three_commands(adapter: str, adapter2: str, out: Path) -> None:
    ran = hub("run", adapter, "--prompt", "say cat", "--max-new-tokens", "3", "--no-chat")
    assert ran.strip()
    assert "merged" in hub("merge", adapter, "--out", str(out / "merged"), "--no-progress")
    assert (out / "merged" / "config.json").is_file()
    hub("combine", adapter, adapter2, "--out", str(out / "combined"), "--no-progress")
    assert (out / "combined" / "adapter_model.safetensors").is_file()


def test_no_base_flag_on_a_local_base_then_on_a_base_pulled_from_the_hub(env, monkeypatch):
    root = env
    base = make_llama_dir(root / "tiny-base")
    lora = pin_adapter(make_adapter(base, root / "lora", "lora", seed=1), base)
    lora2 = pin_adapter(make_adapter(base, root / "lora2", "lora", seed=2), base)

    # 1. on the machine that used the base: the local index knows it
    listed = hub("base", "ls", "--json")
    assert str(base.absolute()) in listed
    _three_commands(str(lora), str(lora2), root / "local")
    data = root / "eval.jsonl"
    data.write_text('{"prompt": "say", "completion": "cat"}\n{"prompt": "say", "completion": "dog"}\n')
    scored = hub("evaluate", "--adapter", str(lora), "--data", str(data), "--max-new-tokens", "2", "--no-progress")
    assert scored.startswith("n=2  exact_match=")
    usage = CliRunner().invoke(main, ["evaluate", "--data", str(data)])
    assert usage.exit_code == 2 and "give --base, or --adapter" in usage.output

    # 2. a hub repo claims these weights but holds others: pulled, checked, refused
    impostor = make_llama_dir(root / "impostor", seed=9)
    from adapters.card import read_card

    hub("push", str(base), "alice/tiny-real", "--version", "1.0.0", "--kind", "base")
    real_fp = read_card(base).hub["fingerprint"]
    from adapters.card import write_card

    write_card(impostor, {"base_model": "org/tiny", "adapter_hub": {"kind": "base", "fingerprint": real_fp}})
    hub("push", str(impostor), "alice/tiny-impostor", "--version", "1.0.0", "--kind", "base")
    hub("push", str(lora), "alice/lora", "--version", "1.0.0")
    hub("push", str(lora2), "alice/lora2", "--version", "1.0.0")
    found = hub("search", "--kind", "base", "--model-fingerprint", real_fp, "--json")
    assert "alice/tiny-real" in found and "alice/tiny-impostor" in found

    # 3. another machine: nothing local; the base comes from the hub by fingerprint
    _fresh_machine(monkeypatch, root, "user")
    shutil.move(base, root / "moved-away")
    _three_commands("alice/lora@1.0.0", "alice/lora2", root / "pulled")
    listed = hub("base", "ls")
    assert "hub alice/tiny-real@1.0.0" in listed and "impostor" not in listed

    # 4. the hub's only matching repo holds other weights: refused, with what was tried, in one line
    _fresh_machine(monkeypatch, root, "third")
    from hub_client import HubClient

    HubClient().delete_repo("alice/tiny-real")
    error = hub_fails("run", "alice/lora@1.0.0", "--prompt", "x", "--max-new-tokens", "1")
    line = error.strip().splitlines()[-1]
    assert line.startswith("error: no base with fingerprint ") and "local index (0 bases)" in line
    assert f"hub {env_endpoint()}" in line and "none had those weights" in line and "pass --base DIR" in line
    assert "hub base" not in hub("base", "ls")  # nothing was indexed


def env_endpoint() -> str:
    import os

    return os.environ["HUB_ENDPOINT"]


def test_base_add_indexes_a_directory_and_refuses_what_is_not_one(env, monkeypatch):
    root = env
    base = make_llama_dir(root / "somewhere" / "base")
    lora = pin_adapter(make_adapter(base, root / "lora", "lora"), base)
    _fresh_machine(monkeypatch, root, "fresh")  # pinning used the base: start from an empty index
    assert "(none)" in hub("base", "ls")
    error = hub_fails("run", str(lora), "--prompt", "x", "--max-new-tokens", "1")
    assert "local index (0 bases)" in error
    added = hub("base", "add", str(base), "--id", "org/tiny")
    assert "org/tiny" in added and "sha256:" in added
    import json

    rows = json.loads(hub("base", "ls", "--json"))
    assert [(r["id"], r["source"], r["path"]) for r in rows] == [("org/tiny", "hub base add", str(base.absolute()))]
    hub("run", str(lora), "--prompt", "x", "--max-new-tokens", "1")
    error = hub_fails("base", "add", str(root / "missing"))
    assert error.strip() == f"error: {root / 'missing'}: not a directory"
    assert len(json.loads(hub("base", "ls", "--json"))) == 1  # nothing stored


def test_a_local_base_rebuilt_with_other_weights_is_refused(env):
    root = env
    base = make_llama_dir(root / "base")
    lora = pin_adapter(make_adapter(base, root / "lora", "lora"), base)
    shutil.rmtree(base)
    make_llama_dir(base, seed=4)  # same path, same name, same config: other weights
    error = hub_fails("run", str(lora), "--prompt", "x", "--max-new-tokens", "1")
    assert "no base with fingerprint" in error and "local index (0 bases)" in error
    error = hub_fails("run", "--base", str(base), str(lora), "--prompt", "x", "--max-new-tokens", "1")
    assert "was trained on base" in error and "--allow-base-mismatch" in error

"""``--json`` on every command that reports something, one documented shape per command.

The walk reads ``hub --help`` and each command's own ``--help`` (as a user would), so a new command without
``--json`` fails here. The shapes below are the README's CLI table; each is checked against the real command
run through the CLI's entry point against a real hub on a loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_client.cli.main import main

# Commands that run a server until stopped: nothing to report.
NO_REPORT = {"serve", "serve-model", "worker"}

# command -> keys of its JSON object ("[]" suffix: a list of such objects)
SHAPES: dict[str, set[str]] = {
    "login": {"endpoint", "user", "scope", "saved_to"},
    "whoami": {"user", "orgs", "scope"},
    "push": {"repo_id", "version", "commit", "created", "uploaded_blobs", "uploaded_bytes", "skipped_blobs", "files"},
    "pull": {"repo_id", "ref", "path", "signed_by"},
    "info": {"id", "kind", "latest_version", "version"},
    "versions[]": {"version", "commit", "yanked"},
    "search[]": {"id", "kind", "latest_version"},
    "leaderboard[]": {"repo", "version", "metric", "value", "reported"},
    "yank": {"version", "yanked"},
    "token create": {"id", "token", "scope"},
    "token list[]": {"id", "scope", "state", "current"},
    "token revoke": {"id", "revoked"},
    "keys generate": {"private", "public", "fingerprint"},
    "keys add": {"fingerprint", "user"},
    "keys list[]": {"fingerprint", "revoked"},
    "keys revoke": {"fingerprint", "user", "revoked"},
    "keys forget": {"user", "forgotten"},
    "verify": {"directory", "verified", "signer", "fingerprint"},
    "admin create-token": {"user", "scope", "orgs", "expires", "name", "token"},
    "admin tokens list[]": {"id", "user", "scope", "state"},
    "admin tokens revoke": {"id", "user"},
    "admin users end-sessions": {"user", "ended"},
    "admin users disable": {"user", "ended"},
    "admin users enable": {"user"},
    "admin audit": {"items", "next_before"},
    "admin quota set": {"namespace", "max_bytes", "used_bytes"},
    "admin quota show": {"namespace", "max_bytes", "used_bytes"},
    "admin set-fullname": {"account", "kind", "fullname"},
    "admin orgs private-by-default": {"org", "private_by_default"},
    "cache ls[]": {"repo", "version", "commit", "files", "size", "yanked"},
    "cache verify": {"blobs_checked", "corrupt_blobs", "broken_snapshots"},
    "cache prune": {"snapshots", "blobs", "bytes", "leftovers"},
    "logout": {"logged_out"},
    "base fingerprint": {"path", "fingerprint"},
    "base add": {"path", "id", "fingerprint"},
    "base ls[]": {"fingerprint", "id", "path", "source"},
    "run": {"task", "text", "adapters"},
    "merge": {"out", "merged", "attached"},
    "combine": {"out", "how", "parents"},
}


def _help(path: list[str]) -> str:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def _subcommands(help_text: str) -> list[str]:
    if "Commands:" not in help_text:
        return []
    block = help_text.split("Commands:", 1)[1]
    return [line.split()[0] for line in block.splitlines() if line.startswith("  ") and line.strip()]


def _leaf_commands(path: list[str]) -> list[tuple[list[str], str]]:
    text = _help(path)
    children = _subcommands(text)
    if not children:
        return [(path, text)]
    return [leaf for child in children for leaf in _leaf_commands([*path, child])]


def test_every_reporting_command_offers_json():
    leaves = _leaf_commands([])
    assert len(leaves) > 40  # the walk reached the subgroups (admin users, admin quota, keys, ...)
    missing = [" ".join(path) for path, text in leaves if path[0] not in NO_REPORT and "--json" not in text]
    assert missing == []


def test_every_documented_shape_is_a_real_command_and_is_in_the_readme():
    leaves = {" ".join(path) for path, _ in _leaf_commands([])}
    documented = {name.removesuffix("[]") for name in SHAPES}
    assert documented <= leaves
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in documented:
        assert f"`hub {name}`" in readme, name


class Cli:
    """The real entry point with this test's environment (cache, config, base index, hub, token)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(main, list(args), env=self.env, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, f"{args}: {result.output}"
        return result.stdout

    def json(self, shape: str, *args: str) -> object:
        body = json.loads(self(*args, "--json"))
        wanted = SHAPES[shape]
        rows = body if shape.endswith("[]") else [body]
        assert isinstance(rows, list) and rows, (shape, body)
        for row in rows:
            assert isinstance(row, dict) and wanted <= set(row), (shape, sorted(row))
        return body


@pytest.fixture
def cli(hub_server, tmp_path):
    token = hub_server.token("alice", "admin")
    return Cli(
        {
            "HUB_ENDPOINT": hub_server.url,
            "HUB_TOKEN": token,
            "HUB_CACHE": str(tmp_path / "cache"),
            "HUB_CONFIG_DIR": str(tmp_path / "config"),
            "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
            "HUB_FINGERPRINT_CACHE": str(tmp_path / "fingerprints.json"),
            "HUB_NO_PROGRESS": "1",
            "HUB_DATA": str(hub_server.data_dir),
        }
    )


def test_registry_commands_print_their_documented_json(cli, hub_server, tmp_path):
    from tests.support.peft_dirs import make_lora_dir

    adapter = make_lora_dir(tmp_path / "lora")
    assert cli.json("login", "login", "--token", cli.env["HUB_TOKEN"])["user"] == "alice"
    cli.json("whoami", "whoami")
    assert cli.json("keys generate", "keys", "generate")["fingerprint"].startswith("sha256:")
    key = cli.json("keys add", "keys", "add")
    cli.json("keys list[]", "keys", "list")
    pushed = cli.json("push", "push", str(adapter), "alice/tone", "--version", "1.0.0", "--sign")
    assert pushed["created"] is True
    pulled = cli.json("pull", "pull", "alice/tone@1.0.0")
    assert Path(pulled["path"]).is_dir() and pulled["signed_by"]["user"] == "alice"
    assert cli.json("verify", "verify", pulled["path"])["verified"] is True
    assert cli.json("info", "info", "alice/tone")["version"]["version"] == "1.0.0"
    cli.json("versions[]", "versions", "alice/tone")
    cli.json("search[]", "search", "tone")
    cli.json("cache ls[]", "cache", "ls")
    cli.json("cache verify", "cache", "verify")
    cli.json("cache prune", "cache", "prune", "--dry-run")
    assert cli.json("yank", "yank", "alice/tone@1.0.0", "--reason", "test")["yanked"] is True
    made = cli.json("token create", "token", "create", "--scope", "read")
    cli.json("token list[]", "token", "list")
    assert cli.json("token revoke", "token", "revoke", str(made["id"])) == {"id": made["id"], "revoked": True}
    assert cli.json("keys revoke", "keys", "revoke", key["fingerprint"])["revoked"] is True
    assert cli.json("keys forget", "keys", "forget", "alice")["forgotten"] == 1
    assert cli.json("logout", "logout") == {"logged_out": True}


def test_operator_commands_print_their_documented_json(cli):
    made = cli.json("admin create-token", "admin", "create-token", "bob", "--scope", "read")
    assert made["user"] == "bob" and made["token"]
    rows = cli.json("admin tokens list[]", "admin", "tokens", "list", "--user", "bob")
    assert cli.json("admin tokens revoke", "admin", "tokens", "revoke", str(rows[0]["id"]))["user"] == "bob"
    cli.json("admin users end-sessions", "admin", "users", "end-sessions", "bob")
    cli.json("admin users disable", "admin", "users", "disable", "bob")
    cli.json("admin users enable", "admin", "users", "enable", "bob")
    cli.json("admin audit", "admin", "audit")
    assert cli.json("admin quota set", "admin", "quota", "set", "bob", "10MB")["max_bytes"] == 10**7
    cli.json("admin quota show", "admin", "quota", "show", "bob")
    assert cli.json("admin set-fullname", "admin", "set-fullname", "bob", "Bob B")["fullname"] == "Bob B"
    cli.json("admin create-token", "admin", "create-token", "bob", "--org", "bob-lab")
    made = cli.json("admin orgs private-by-default", "admin", "orgs", "private-by-default", "bob-lab", "on")
    assert made == {"org": "bob-lab", "private_by_default": True}


def test_model_commands_print_their_documented_json(cli, tmp_path):
    from tests.support.peft_dirs import make_lora_dir
    from tests.support.stack_fixtures import pin_adapter
    from tests.support.tiny_bases import make_llama_dir

    base = make_llama_dir(tmp_path / "base")
    first = pin_adapter(make_lora_dir(tmp_path / "a1", seed=1), base)
    second = pin_adapter(make_lora_dir(tmp_path / "a2", seed=2), base)
    printed = cli.json("base fingerprint", "base", "fingerprint", str(base))["fingerprint"]
    assert cli.json("base add", "base", "add", str(base))["fingerprint"] == printed
    cli.json("base ls[]", "base", "ls")
    ran = cli.json("run", "run", str(first), "--prompt", "hi", "--max-new-tokens", "2")
    assert ran["task"] == "causal-lm" and isinstance(ran["text"], str) and ran["adapters"][0]["merged"] is True
    merged = cli.json("merge", "merge", str(first), "--out", str(tmp_path / "merged"), "--no-progress")
    assert Path(merged["out"]).is_dir() and len(merged["merged"]) == 1
    combined = cli.json("combine", "combine", str(first), str(second), "--out", str(tmp_path / "mix"), "--no-progress")
    assert Path(combined["out"]).is_dir() and len(combined["parents"]) == 2

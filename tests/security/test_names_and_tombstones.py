"""Names ignore case (users, orgs, repos) and a deleted repo's version names stay bound to their
bytes when the repo is re-created — on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from hub_server.admin import create_user_token, list_user_tokens
from hub_server.errors import Conflict
from tests.security.accountability_support import auth, create_repo, hub_on, one_line, publish  # noqa: F401


def test_repo_names_differing_only_in_case_cannot_coexist(hub_on):
    hub = hub_on()
    alice = hub.token("alice", "write", orgs=["lab"])
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, alice, "alice", "lora")
        for namespace, name in (("alice", "LoRA"), ("alice", "LORA"), ("lab", "x"), ("lab", "X")):
            r = client.post("/api/v1/repos", json={"namespace": namespace, "name": name}, headers=auth(alice))
            if (namespace, name) == ("lab", "x"):
                assert r.status_code == 201
                continue
            assert r.status_code == 409, r.text
            assert "already exists" in one_line(r)
        assert client.get("/api/v1/repos/alice/LoRA", headers=auth(alice)).status_code == 404
        found = client.get("/api/v1/search", params={"namespace": "alice"}, headers=auth(alice)).json()["items"]
        assert [item["id"] for item in found] == ["alice/lora"]  # nothing else was stored


def test_user_and_org_names_ignore_case(hub_on):
    hub = hub_on()
    hub.token("alice", "write", orgs=["Lab"])
    for user, orgs in (("Alice", ()), ("ALICE", ()), ("lab", ()), ("bob", ("ALICE",)), ("carol", ("lab",))):
        with pytest.raises(Conflict, match="names ignore case"):
            create_user_token(hub.settings, user, "write", orgs)
    assert [t["user"] for t in list_user_tokens(hub.settings)] == ["alice"]  # no account, no token was made
    result = CliRunner().invoke(
        main,
        ["admin", "create-token", "Alice", "--data", str(hub.data_dir)],
        env={"HUB_DATABASE_URL": hub.database_url or ""} if hub.database_url else None,
    )
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "names ignore case" in result.stderr
    assert "Traceback" not in result.output


def test_recreated_repo_never_reuses_a_version_name_with_other_bytes(hub_on):
    hub = hub_on()
    alice = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, alice, "alice", "lora")
        first = publish(client, alice, "alice/lora", "1.0.0", {"a.txt": b"original bytes"})
        assert first.status_code == 201
        assert client.delete("/api/v1/repos/alice/lora", headers=auth(alice)).status_code == 204
        create_repo(client, alice, "alice", "LoRA")  # same name, other case: the same repo identity
        r = publish(client, alice, "alice/LoRA", "1.0.0", {"a.txt": b"other bytes"})
        assert r.status_code == 409 and "cannot be reused" in one_line(r)
        assert client.get("/api/v1/repos/alice/LoRA/versions", headers=auth(alice)).json()["items"] == []
        assert client.get("/api/v1/repos/alice/LoRA", headers=auth(alice)).json()["latest_version"] is None
        same = publish(client, alice, "alice/LoRA", "1.0.0", {"a.txt": b"original bytes"})
        assert same.status_code == 201 and same.json()["commit"] == first.json()["commit"]
        assert publish(client, alice, "alice/LoRA", "1.0.1", {"a.txt": b"other bytes"}).status_code == 201

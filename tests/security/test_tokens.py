"""Tokens: users list, create and revoke their own; admins list and revoke any; expiry. A revoked
or expired token is refused at once by every worker (nothing is cached)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from hub_server.admin import create_user_token, list_user_tokens, revoke_user_token
from hub_server.errors import Invalid
from tests.security.accountability_support import auth, hub_on, one_line  # noqa: F401

SHARED_HUB = True  # one hub (two workers) per database kind: each test has users of its own


def _cli_env(hub) -> dict:
    """An operator's shell beside the hub (its database, on every deployment) and a user's endpoint."""
    return {**hub.admin_env(), "HUB_ENDPOINT": hub.url, "HUB_TOKEN": ""}


def test_revoked_token_fails_at_once_on_every_worker(hub_on):
    hub = hub_on(workers=2)
    main_token = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        made = client.post("/api/v1/tokens", json={"scope": "read", "name": "ci"}, headers=auth(main_token))
        assert made.status_code == 201 and made.json()["scope"] == "read" and made.json()["state"] == "active"
        extra = made.json()["token"]
        for _ in range(6):
            assert client.get("/api/v1/whoami", headers=auth(extra)).status_code == 200
        listed = client.get("/api/v1/tokens", headers=auth(main_token)).json()["items"]
        assert [(t["name"], t["current"]) for t in listed] == [("", True), ("ci", False)]
        assert all("token" not in t and "token_hash" not in t for t in listed)
        assert client.delete(f"/api/v1/tokens/{made.json()['id']}", headers=auth(main_token)).status_code == 204
        for _ in range(8):  # new connections each time: both workers answer
            r = httpx.get(hub.url + "/api/v1/whoami", headers=auth(extra))
            assert r.status_code == 401 and one_line(r).startswith("token revoked")
        states = [t["state"] for t in client.get("/api/v1/tokens", headers=auth(main_token)).json()["items"]]
        assert states == ["active", "revoked"]


def test_tokens_cannot_widen_their_scope_or_touch_others(hub_on):
    hub = hub_on(workers=2)
    reader, bob = hub.token("uli", "read"), hub.token("vera", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        r = client.post("/api/v1/tokens", json={"scope": "write"}, headers=auth(reader))
        assert r.status_code == 403 and "cannot create" in one_line(r)
        alice_ids = [t["id"] for t in client.get("/api/v1/tokens", headers=auth(reader)).json()["items"]]
        assert len(alice_ids) == 1  # nothing was minted
        r = client.delete(f"/api/v1/tokens/{alice_ids[0]}", headers=auth(bob))
        assert r.status_code == 404 and one_line(r) == f"token {alice_ids[0]} not found"
        assert client.get("/api/v1/whoami", headers=auth(reader)).status_code == 200  # still active
        r = client.post("/api/v1/tokens", json={"scope": "read", "expires_in": "soon"}, headers=auth(bob))
        assert r.status_code == 400 and "invalid duration" in one_line(r)
        assert len(client.get("/api/v1/tokens", headers=auth(bob)).json()["items"]) == 1
        assert client.get("/api/v1/tokens").status_code == 401


def test_expired_token_is_refused_and_children_never_outlive_it(hub_on):
    hub = hub_on(workers=2)
    short = create_user_token(hub.settings, "wes", "write", expires_in="2s")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        child = client.post("/api/v1/tokens", json={"scope": "read", "expires_in": "30d"}, headers=auth(short)).json()
        assert child["expires_at"] is not None
        time.sleep(2.5)
        for token in (short, child["token"]):
            r = client.get("/api/v1/whoami", headers=auth(token))
            assert r.status_code == 401 and one_line(r).startswith("token expired at")
    with pytest.raises(Invalid, match="invalid duration"):
        create_user_token(hub.settings, "wes", "write", expires_in="30 days")
    assert [t["state"] for t in list_user_tokens(hub.settings, "wes")] == ["expired", "expired"]


def test_admin_and_user_token_commands(hub_on):
    hub = hub_on(workers=2)
    runner = CliRunner()
    env = _cli_env(hub)
    made = runner.invoke(main, ["admin", "create-token", "xena", "--expires", "30d", "--name", "laptop"], env=env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip()
    bad = runner.invoke(main, ["admin", "create-token", "xena", "--expires", "forever"], env=env)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: invalid duration") and "Traceback" not in bad.output
    listed = runner.invoke(main, ["admin", "tokens", "list", "--user", "xena", "--json"], env=env)
    rows = json.loads(listed.stdout)
    assert [(r["user"], r["name"], r["state"]) for r in rows] == [("xena", "laptop", "active")]
    assert rows[0]["expires_at"] is not None

    env["HUB_TOKEN"] = token
    created = runner.invoke(main, ["token", "create", "--scope", "read", "--name", "ci", "--expires", "1d"], env=env)
    assert created.exit_code == 0, created.output
    ci_token = created.stdout.strip()
    assert ci_token.startswith("hub_") and "\n" not in ci_token
    table = runner.invoke(main, ["token", "list"], env=env)
    assert table.exit_code == 0 and "ci" in table.stdout and "laptop" in table.stdout
    ci_id = next(r["id"] for r in list_user_tokens(hub.settings, "xena") if r["name"] == "ci")
    assert runner.invoke(main, ["token", "revoke", str(ci_id)], env=env).exit_code == 0
    assert httpx.get(hub.url + "/api/v1/whoami", headers=auth(ci_token)).status_code == 401

    revoked = runner.invoke(main, ["admin", "tokens", "revoke", str(rows[0]["id"])], env={**env, "HUB_TOKEN": ""})
    assert revoked.exit_code == 0 and "revoked token" in revoked.stderr
    missing = runner.invoke(main, ["admin", "tokens", "revoke", "999"], env=env)
    assert missing.exit_code == 1 and missing.stderr.strip() == "error: token 999 not found"
    assert httpx.get(hub.url + "/api/v1/whoami", headers=auth(token)).status_code == 401
    assert revoke_user_token(hub.settings, rows[0]["id"])["state"] == "revoked"  # idempotent

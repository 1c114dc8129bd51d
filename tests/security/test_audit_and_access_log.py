"""The audit trail records publish, yank, delete and token events with who, what, when and the
request id; only admins read it; the table refuses UPDATE and DELETE. The access log is one
JSON line per request with the id the response echoes as ``X-Request-Id``."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub_client.cli.main import main
from hub_server.db import Database
from tests.security.accountability_support import auth, create_repo, hub_on, one_line, publish  # noqa: F401


def test_audit_trail_records_changes_and_is_admin_only(hub_on):
    hub = hub_on()
    alice, admin = hub.token("alice", "write"), hub.token("root", "admin")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, alice, "alice", "lora")
        published = publish(client, alice, "alice/lora", "1.0.0", {"a.txt": b"one"})
        assert published.status_code == 201
        publish(client, alice, "alice/lora", "1.0.1", {"a.txt": b"two"})
        client.post("/api/v1/repos/alice/lora/versions/1.0.1/yank", json={"reason": "bad"}, headers=auth(alice))
        client.delete("/api/v1/repos/alice/lora/versions/1.0.1", headers=auth(alice))
        made = client.post("/api/v1/tokens", json={"scope": "read"}, headers=auth(alice)).json()
        client.delete(f"/api/v1/tokens/{made['id']}", headers=auth(alice))
        client.delete("/api/v1/repos/alice/lora", headers=auth(alice))

        r = client.get("/api/v1/admin/audit", headers=auth(alice))
        assert r.status_code == 403 and one_line(r) == "the audit log needs an admin token"
        assert client.get("/api/v1/admin/audit").status_code == 401
        items = client.get("/api/v1/admin/audit", headers=auth(admin), params={"actor": "alice"}).json()["items"]
    actions = [(e["action"], e["target"]) for e in reversed(items)]
    assert actions == [
        ("repo.create", "alice/lora"),
        ("version.publish", "alice/lora@1.0.0"),
        ("version.publish", "alice/lora@1.0.1"),
        ("version.yank", "alice/lora@1.0.1"),
        ("version.delete", "alice/lora@1.0.1"),
        ("token.create", f"token {made['id']}"),
        ("token.revoke", f"token {made['id']}"),
        ("repo.delete", "alice/lora"),
    ]
    first_publish = items[-2]
    assert first_publish["request_id"] == published.headers["x-request-id"]
    assert first_publish["detail"]["commit"] == published.json()["commit"] and first_publish["at"]

    cli = CliRunner().invoke(
        main,
        ["admin", "audit", "--action", "version.yank", "--json"],
        env={"HUB_DATA": str(hub.data_dir), "HUB_DATABASE_URL": hub.database_url or ""},
    )
    assert cli.exit_code == 0, cli.output
    assert [e["target"] for e in json.loads(cli.stdout)["items"]] == ["alice/lora@1.0.1"]
    remote = CliRunner().invoke(main, ["admin", "audit", "--endpoint", hub.url, "--token", alice])
    assert remote.exit_code == 1 and remote.stderr.startswith("error: the audit log needs an admin token")

    db = Database(hub.settings.resolved_database_url())
    try:
        for statement in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
                conn.execute(text(statement))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_events WHERE actor = 'mallory'")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() >= 9
    finally:
        db.dispose()


def test_access_log_is_one_json_line_per_request(hub_on, tmp_path):
    log = tmp_path / "access.log"
    hub = hub_on(env={"HUB_ACCESS_LOG": str(log)})
    token = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        ok = client.get("/api/v1/whoami", headers=auth(token))
        missing = client.get("/api/v1/repos/alice/nothing")
        denied = client.get("/api/v1/whoami", headers=auth("hub_not_a_token"))
    hub.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    by_id = {line["request_id"]: line for line in lines}
    for response, status, user, path in (
        (ok, 200, "alice", "/api/v1/whoami"),
        (missing, 404, None, "/api/v1/repos/alice/nothing"),
        (denied, 401, None, "/api/v1/whoami"),
    ):
        line = by_id[response.headers["x-request-id"]]
        assert set(line) == {"request_id", "method", "path", "status", "ms", "user"}
        assert (line["method"], line["path"], line["status"], line["user"]) == ("GET", path, status, user)
        assert line["ms"] >= 0
    assert token not in log.read_text()
    assert len({r.headers["x-request-id"] for r in (ok, missing, denied)}) == 3


def test_a_client_hanging_up_mid_upload_is_one_log_line_not_a_traceback(hub_on, tmp_path):
    log = tmp_path / "access.log"
    hub = hub_on(env={"HUB_ACCESS_LOG": str(log)})
    token = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        upload_id = client.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        host, port = hub.url.removeprefix("http://").split(":")
        head = (
            f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Length: 100000\r\nContent-Range: bytes 0-99999/*\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(head + b"x" * 1000)  # a tenth of the announced body, then hang up
        deadline = time.monotonic() + 30
        while (
            not (
                patches := [line for line in map(json.loads, log.read_text().splitlines()) if line["method"] == "PATCH"]
            )
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert [line["status"] for line in patches] == [499]
        assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(token)).json()["offset"] == 0
    hub.stop()
    assert "Traceback" not in hub.log_tail(1_000_000) and "Exception" not in hub.log_tail(1_000_000)
    assert not [p for p in (hub.data_dir / "uploads").rglob("*") if p.is_file()]  # the partial chunk went

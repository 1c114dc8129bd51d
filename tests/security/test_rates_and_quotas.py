"""Rate buckets (reads, writes, auth failures; 429 with Retry-After), their sharing through
Redis by two server processes, and the quotas: open upload sessions, bytes per day,
namespace storage (admin-set). On the two-host deployment the hosts share their buckets through
Redis (``shared=True``), as a several-host hub must, and every count holds across both."""

from __future__ import annotations

import hashlib
import socket
import uuid

import httpx
import pytest
from click.testing import CliRunner

from tests.security.hub_probe import Stored
from tests.support.hub_process import HubProcess


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def tight(deployed_module):
    return deployed_module(
        env={
            "HUB_RATE_READ": "5/minute",
            "HUB_RATE_WRITE": "3/minute",
            "HUB_MAX_OPEN_UPLOADS": "2",
            "HUB_MAX_UPLOAD_BYTES_PER_DAY": "1000",
        },
        shared=True,
    )


def _refused(r: httpx.Response, fragment: str) -> None:
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited" and fragment in r.json()["error"]["message"]


def test_read_bucket_per_token(tight, client_for):
    mia, ned = client_for(tight, tight.token("mia")), client_for(tight, tight.token("ned"))
    assert [mia.get("/api/v1/whoami").status_code for _ in range(5)] == [200] * 5
    _refused(mia.get("/api/v1/whoami"), "too many read requests (limit 5 per 1 minute)")
    assert ned.get("/api/v1/whoami").status_code == 200  # another token has its own bucket


def test_write_bucket_per_token_refuses_before_the_write(tight, client_for):
    c = client_for(tight, tight.token("oli"))
    for i in range(3):
        assert c.post("/api/v1/repos", json={"namespace": "oli", "name": f"r{i}"}).status_code == 201
    _refused(c.post("/api/v1/repos", json={"namespace": "oli", "name": "r3"}), "too many write requests")
    assert Stored(tight).repos("oli") == 3


def test_open_upload_sessions_are_capped_per_user(tight, client_for):
    c = client_for(tight, tight.token("pia"))
    first = [c.post("/api/v1/uploads") for _ in range(2)]
    assert [r.status_code for r in first] == [202, 202]
    r = c.post("/api/v1/uploads")
    assert r.status_code == 429
    assert r.json()["error"]["message"] == "2 upload sessions are already open; finish or cancel one first"
    assert Stored(tight).upload_sessions("pia") == 2


def test_uploaded_bytes_per_day_are_capped_per_user(tight, client_for):
    c = client_for(tight, tight.token("quinn"))
    upload_id = c.post("/api/v1/uploads").json()["upload_id"]
    assert c.patch(f"/api/v1/uploads/{upload_id}", content=b"a" * 800).status_code == 202
    r = c.patch(f"/api/v1/uploads/{upload_id}", content=b"b" * 400)
    _refused(r, "quinn has used the 1000-byte daily upload quota")
    assert c.get(f"/api/v1/uploads/{upload_id}").json()["offset"] == 800
    assert Stored(tight).blob_files() == 0


def test_auth_failures_are_limited_per_address(deployed, client_for):
    hub = deployed(env={"HUB_RATE_AUTH_FAILURES": "3/minute"}, shared=True)
    good = hub.token("rae")
    for i in range(3):
        assert client_for(hub, f"hub_wrong{i}").get("/api/v1/whoami").status_code == 401
    _refused(client_for(hub, "hub_wrong9").get("/api/v1/whoami"), "too many failed logins from this address")
    # guessing stops, but a valid token from the same address (NAT, a proxy) still works, on every host
    for _ in range(2):
        assert client_for(hub, good).get("/api/v1/whoami").json()["user"] == "rae"
    _refused(client_for(hub, "hub_wrong10").get("/api/v1/whoami"), "too many failed logins")
    assert client_for(hub).get("/healthz").status_code == 200


def _redis_or_skip() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")


def test_two_servers_share_one_bucket_through_redis(tmp_path_factory, client_for):
    _redis_or_skip()
    env = {
        "HUB_REDIS_URL": "redis://127.0.0.1:6379/0",
        "HUB_RATE_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        "HUB_RATE_READ": "6/minute",
    }
    shared = f"sqlite:///{tmp_path_factory.mktemp('shared')}/hub.sqlite3"
    first = HubProcess(tmp_path_factory.mktemp("a"), database_url=shared, env=env).start()
    second = HubProcess(tmp_path_factory.mktemp("b"), database_url=shared, env=env).start()
    try:
        token = first.token("sol")  # the database is shared, so the token works on both
        a, b = client_for(first, token), client_for(second, token)
        answers = [(a if i % 2 else b).get("/api/v1/whoami").status_code for i in range(6)]
        assert answers == [200] * 6
        _refused(a.get("/api/v1/whoami"), "too many read requests")
        _refused(b.get("/api/v1/whoami"), "too many read requests")
    finally:
        first.close()
        second.close()


@pytest.fixture(scope="module")
def quota_hub(deployed_module):
    return deployed_module()


def _upload(c: httpx.Client, data: bytes) -> str:
    upload_id = c.post("/api/v1/uploads").json()["upload_id"]
    r = c.put(f"/api/v1/uploads/{upload_id}", params={"digest": _digest(data)}, content=data)
    assert r.status_code == 201, r.text
    return _digest(data)


def test_namespace_quota_refuses_publish_and_hf_commit(quota_hub, client_for):
    hub = quota_hub
    admin, tia = client_for(hub, hub.token("root", "admin")), client_for(hub, hub.token("tia"))
    assert tia.put("/api/v1/admin/quotas/tia", json={"max_bytes": 10}).status_code == 403
    r = admin.put("/api/v1/admin/quotas/tia", json={"max_bytes": 150})
    assert r.json() == {"namespace": "tia", "max_bytes": 150, "used_bytes": 0}
    assert tia.post("/api/v1/repos", json={"namespace": "tia", "name": "lora"}).status_code == 201
    small, big = b"s" * 100, b"b" * 100
    files = [{"path": "a.txt", "size": 100, "digest": _upload(tia, small)}]
    assert tia.post("/api/v1/repos/tia/lora/versions", json={"version": "1.0.0", "files": files}).status_code == 201
    # unpublished bytes count: the upload itself is refused, and nothing of it is kept
    upload_id = tia.post("/api/v1/uploads").json()["upload_id"]
    r = tia.put(f"/api/v1/uploads/{upload_id}", params={"digest": _digest(big)}, content=big)
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": "quota_exceeded",
        "message": "namespace 'tia' would use 200 bytes with "
        "this upload (unpublished uploads count), over its quota of 150",
    }
    assert tia.get(f"/api/v1/uploads/{upload_id}").json()["offset"] == 0
    more = files + [{"path": "b.txt", "size": 100, "digest": _digest(big)}]
    assert tia.post("/api/v1/repos/tia/lora/versions", json={"version": "1.1.0", "files": more}).status_code == 400
    assert Stored(hub).versions("tia") == 1
    # the same bytes again use no more room
    assert tia.post("/api/v1/repos/tia/lora/versions", json={"version": "1.0.1", "files": files}).status_code == 201

    blobs_before = Stored(hub).blob_files()
    import base64
    import json

    body = b"\n".join(
        json.dumps(x).encode()
        for x in (
            {"key": "header", "value": {"summary": "more"}},
            {"key": "file", "value": {"path": "c.txt", "content": base64.b64encode(b"c" * 80).decode()}},
        )
    )
    r = tia.post("/api/models/tia/lora/commit/main", content=body)
    assert r.status_code == 413
    assert r.json() == {"error": "namespace 'tia' would use 180 bytes, over its quota of 150"}
    assert Stored(hub).blob_files() == blobs_before and Stored(hub).versions("tia") == 2


def test_quota_cli_sets_and_shows(quota_hub, monkeypatch):
    from hub_client.cli.main import main

    monkeypatch.setenv("HUB_ENDPOINT", quota_hub.url)
    monkeypatch.setenv("HUB_TOKEN", quota_hub.token("root", "admin"))
    runner = CliRunner()
    r = runner.invoke(main, ["admin", "quota", "set", "uma", "1.5KiB", "--json"])
    assert r.exit_code == 0, r.output
    assert '"max_bytes": 1536' in r.output
    r = runner.invoke(main, ["admin", "quota", "show", "uma"])
    assert r.exit_code == 0 and "1536 bytes" in r.output
    r = runner.invoke(main, ["admin", "quota", "set", "uma", "none", "--json"])
    assert '"max_bytes": null' in r.output
    monkeypatch.setenv("HUB_TOKEN", quota_hub.token("vic", "write"))
    r = runner.invoke(main, ["admin", "quota", "set", "uma", "1GB"])
    assert r.exit_code == 1 and r.output.count("\n") == 1 and "admin token" in r.output

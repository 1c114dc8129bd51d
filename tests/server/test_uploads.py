"""Upload sessions over real HTTP: chunk order, corrupt chunks, digest checks, resume."""

from __future__ import annotations

import httpx
import pytest

from tests.support.hub_http import auth, digest_of, upload


@pytest.fixture(scope="module")
def writer(server):
    return server.token("uploader", "write")


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _start(client, token):
    r = client.post("/api/v1/uploads", headers=auth(token))
    assert r.status_code == 202 and r.json()["offset"] == 0
    return r.json()["upload_id"]


def _patch(client, token, upload_id, start, data, end=None):
    end = start + len(data) - 1 if end is None else end
    return client.patch(
        f"/api/v1/uploads/{upload_id}", content=data, headers={**auth(token), "Content-Range": f"bytes {start}-{end}/*"}
    )


def test_out_of_order_chunk_is_416_with_the_offset(client, writer):
    upload_id = _start(client, writer)
    assert _patch(client, writer, upload_id, 0, b"hello").json()["offset"] == 5
    r = _patch(client, writer, upload_id, 8, b"xyz")
    assert r.status_code == 416
    assert r.headers["Upload-Offset"] == "5"
    assert r.json()["error"]["code"] == "range_not_satisfiable" and r.json()["error"]["offset"] == 5
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(writer)).json()["offset"] == 5
    assert _patch(client, writer, upload_id, 5, b" world").status_code == 202
    r = client.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest_of(b"hello world")}, headers=auth(writer))
    assert r.status_code == 201 and r.json() == {"digest": digest_of(b"hello world"), "size": 11}
    head = client.head(f"/api/v1/blobs/{digest_of(b'hello world')}", headers=auth(writer))
    assert head.status_code == 200 and head.headers["content-length"] == "11"


def test_corrupt_chunk_is_refused_and_not_kept(client, writer):
    upload_id = _start(client, writer)
    _patch(client, writer, upload_id, 0, b"abcd")
    r = _patch(client, writer, upload_id, 4, b"efg", end=9)  # announces 6 bytes, carries 3
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(writer)).json()["offset"] == 4


def test_wrong_digest_is_400_and_nothing_stored(client, writer, server):
    upload_id = _start(client, writer)
    _patch(client, writer, upload_id, 0, b"real bytes")
    claimed = digest_of(b"other bytes")
    r = client.put(f"/api/v1/uploads/{upload_id}", params={"digest": claimed}, headers=auth(writer))
    assert r.status_code == 400 and r.json()["error"]["code"] == "digest_mismatch"
    assert client.head(f"/api/v1/blobs/{claimed}", headers=auth(writer)).status_code == 404
    assert client.head(f"/api/v1/blobs/{digest_of(b'real bytes')}", headers=auth(writer)).status_code == 404
    stored = {p.name for p in (server.data_dir / "blobs").rglob("*") if p.is_file()}
    assert claimed.split(":")[1] not in stored and digest_of(b"real bytes").split(":")[1] not in stored
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(writer)).status_code == 404


def test_last_chunk_can_travel_with_finish(client, writer):
    upload_id = _start(client, writer)
    _patch(client, writer, upload_id, 0, b"part one, ")
    r = client.put(
        f"/api/v1/uploads/{upload_id}",
        params={"digest": digest_of(b"part one, part two")},
        content=b"part two",
        headers=auth(writer),
    )
    assert r.status_code == 201 and r.json()["size"] == 18


def test_upload_rules_for_tokens_and_sessions(client, server, writer):
    assert client.post("/api/v1/uploads").status_code == 401
    reader = server.token("reader", "read")
    r = client.post("/api/v1/uploads", headers=auth(reader))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert client.post("/api/v1/uploads", headers=auth("not-a-token")).status_code == 401
    upload_id = _start(client, writer)
    other = server.token("someone-else", "write")
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(other)).status_code == 404
    assert client.delete(f"/api/v1/uploads/{upload_id}", headers=auth(writer)).status_code == 204
    assert client.get(f"/api/v1/uploads/{upload_id}", headers=auth(writer)).status_code == 404
    assert client.head("/api/v1/blobs/sha256:nothex", headers=auth(writer)).status_code == 400


def test_same_blob_uploaded_twice_is_fine(client, writer):
    assert upload(client, writer, b"twice") == upload(client, writer, b"twice")

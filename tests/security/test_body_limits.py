"""Body size and JSON depth are refused by the limits middleware before parsing or auth."""

from __future__ import annotations

import uuid

from tests.security.hub_probe import Stored


def _repo_body(namespace: str, name: str) -> dict:
    return {"namespace": namespace, "name": name}


def test_oversize_json_body_is_refused_by_content_length(small_hub, client_for):
    c = client_for(small_hub, small_hub.token("bea"))
    name = f"r-{uuid.uuid4().hex[:6]}"
    body = b'{"namespace": "bea", "name": "%s", "pad": "%s"}' % (name.encode(), b"x" * 5000)
    r = c.post("/api/v1/repos", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"error": {"code": "too_large", "message": "request body larger than 4096 bytes"}}
    assert Stored(small_hub.data_dir).repos("bea") == 0


def test_oversize_chunked_body_is_refused_while_it_streams(small_hub, client_for):
    c = client_for(small_hub, small_hub.token("cal"))

    def chunks():  # no Content-Length: Transfer-Encoding chunked
        yield b'{"namespace": "cal", "name": "r", "pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    r = c.post("/api/v1/repos", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["message"] == "request body larger than 4096 bytes"
    assert Stored(small_hub.data_dir).repos("cal") == 0


def test_deep_json_body_is_refused_before_parsing(small_hub, client_for):
    c = client_for(small_hub, small_hub.token("dee"))
    deep = b'{"namespace": "dee", "name": "r", "x": ' + b"[" * 9 + b"]" * 9 + b"}"
    r = c.post("/api/v1/repos", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json() == {"error": {"code": "invalid", "message": "JSON nested deeper than 8 levels"}}
    assert Stored(small_hub.data_dir).repos("dee") == 0
    shallow = b'{"namespace": "dee", "name": "r", "x": ' + b"[" * 6 + b"]" * 6 + b"}"
    assert c.post("/api/v1/repos", content=shallow, headers={"content-type": "application/json"}).status_code == 201


def test_anonymous_api_write_is_refused_before_the_body_is_read(small_hub, client_for):
    c = client_for(small_hub)
    r = c.post("/api/v1/repos", json=_repo_body("eve", "r"))
    assert r.status_code == 401
    assert r.json()["error"]["message"] == "this call needs a token (hub login)"
    r = c.post("/api/v1/uploads")
    assert r.status_code == 401
    assert Stored(small_hub.data_dir).repos("eve") == 0 and Stored(small_hub.data_dir).upload_sessions() == 0


def test_upload_chunk_over_the_file_limit_is_refused_and_not_kept(small_hub, client_for):
    token = small_hub.token("fin")
    c = client_for(small_hub, token)
    upload_id = c.post("/api/v1/uploads").json()["upload_id"]
    r = c.patch(f"/api/v1/uploads/{upload_id}", content=b"x" * 70000)
    assert r.status_code == 413
    assert r.json()["error"]["message"] == "request body larger than 65536 bytes"
    assert c.get(f"/api/v1/uploads/{upload_id}").json()["offset"] == 0

    def chunks():
        for _ in range(20):
            yield b"y" * 4096

    r = c.patch(f"/api/v1/uploads/{upload_id}", content=chunks())
    assert r.status_code == 413
    assert "65536" in r.json()["error"]["message"]
    assert c.get(f"/api/v1/uploads/{upload_id}").json()["offset"] == 0
    assert Stored(small_hub.data_dir).blob_files() == 0

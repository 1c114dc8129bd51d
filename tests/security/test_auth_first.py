"""Write rights are checked before any side effect, on the native and the HF protocol:
a caller who may not write gets 401/403 and nothing is stored (no blob file, no blob
row, no version, no upload session)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.security.hub_probe import Stored, start


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    server = start(tmp_path_factory)
    owner = server.token("olga")
    import httpx

    r = httpx.post(
        f"{server.url}/api/v1/repos",
        json={"namespace": "olga", "name": "lora"},
        headers={"Authorization": f"Bearer {owner}"},
    )
    assert r.status_code == 201, r.text
    yield server
    server.close()


def ndjson_commit(files: dict[str, bytes], summary: str = "add files") -> bytes:
    lines = [{"key": "header", "value": {"summary": summary, "description": ""}}]
    lines += [
        {"key": "file", "value": {"path": p, "content": base64.b64encode(d).decode(), "encoding": "base64"}}
        for p, d in files.items()
    ]
    return b"\n".join(json.dumps(line).encode() for line in lines)


BODY = ndjson_commit({"README.md": b"# hello\n", "notes.txt": b"x" * 3000})


@pytest.mark.parametrize(
    "who,scope,status,message",
    [
        ("olga", "read", 403, "token scope 'read' cannot write; create a token with --scope write"),
        ("sam", "write", 403, "sam may not write to namespace 'olga'"),
    ],
)
def test_hf_commit_without_write_rights_stores_nothing(hub, client_for, who, scope, status, message):
    c = client_for(hub, hub.token(who, scope))
    r = c.post("/api/models/olga/lora/commit/main", content=BODY, headers={"content-type": "application/x-ndjson"})
    assert r.status_code == status
    assert r.json() == {"error": message}
    assert Stored(hub.data_dir).nothing("olga")


def test_hf_commit_anonymous_is_refused_before_the_body(hub, client_for):
    r = client_for(hub).post("/api/models/olga/lora/commit/main", content=BODY)
    assert r.status_code == 401
    assert r.json() == {"error": "this call needs a token (hub login)"}
    assert Stored(hub.data_dir).nothing("olga")


def test_hf_commit_to_a_private_repo_of_someone_else_is_not_found(hub, client_for):
    owner = client_for(hub, hub.token("olga"))
    assert owner.post("/api/v1/repos", json={"namespace": "olga", "name": "secret", "private": True}).status_code == 201
    r = client_for(hub, hub.token("sam")).post("/api/models/olga/secret/commit/main", content=BODY)
    assert r.status_code == 404
    assert Stored(hub.data_dir).nothing("olga")


def test_hf_preupload_without_write_rights_is_refused(hub, client_for):
    c = client_for(hub, hub.token("sam"))
    r = c.post("/api/models/olga/lora/preupload/main", json={"files": [{"path": "a.txt", "size": 1, "sample": ""}]})
    assert r.status_code == 403
    assert r.json() == {"error": "sam may not write to namespace 'olga'"}


def test_hf_commit_with_a_deep_line_is_refused_and_stores_nothing(hub, client_for):
    c = client_for(hub, hub.token("olga"))
    deep = BODY + b'\n{"key": "header", "value": {"x": ' + b"[" * 20 + b"]" * 20 + b"}}"
    r = c.post("/api/models/olga/lora/commit/main", content=deep)
    assert r.status_code == 400
    assert r.json() == {"error": "a commit line nests deeper than 8 levels"}
    assert Stored(hub.data_dir).nothing("olga")


def test_validate_yaml_is_open_but_stores_nothing(hub, client_for):
    """``RepoCard.validate`` posts without a token (the HF Hub answers it anonymously): it only validates."""
    before = Stored(hub.data_dir).nothing("anyone")
    r = client_for(hub).post("/api/validate-yaml", json={"content": "---\nlicense: 5\n---\n", "repoType": "model"})
    assert r.status_code == 400 and "license" in r.text
    ok = client_for(hub).post("/api/validate-yaml", json={"content": "---\nlicense: mit\n---\n", "repoType": "model"})
    assert ok.status_code == 200
    assert Stored(hub.data_dir).nothing("anyone") == before


def test_native_publish_by_a_read_token_is_refused_before_the_manifest(hub, client_for):
    c = client_for(hub, hub.token("olga", "read"))
    manifest = {"version": "1.0.0", "files": [{"path": "a.txt", "size": 1, "digest": "sha256:" + "0" * 64}]}
    r = c.post("/api/v1/repos/olga/lora/versions", json=manifest)
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "token scope 'read' cannot write; create a token with --scope write"
    r = c.post("/api/v1/uploads")
    assert r.status_code == 403
    assert Stored(hub.data_dir).nothing("olga") and Stored(hub.data_dir).upload_sessions() == 0

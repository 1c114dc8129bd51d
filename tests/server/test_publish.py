"""Publishing and reading versions over real HTTP: idempotence, conflicts, refusals of
unsafe files, yank/delete, ranges, and the 401/403/404 visibility rules."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import httpx
import pytest

from tests.support.hub_http import auth, create_repo, digest_of, publish, raw_safetensors, safetensors_bytes, upload

CARD = b"""---
library_name: peft
license: apache-2.0
tags: [lora, demo]
adapter_hub:
  kind: adapter
  method: lora
  task: causal-lm
  base: {id: org/base, revision: null, fingerprint: "sha256:abc"}
---
# demo
"""


@pytest.fixture(scope="module")
def alice(server):
    return server.token("alice", "write", orgs=("acme",))


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _files(extra: bytes = b"") -> dict[str, bytes]:
    return {"README.md": CARD, "adapter_model.safetensors": safetensors_bytes(), "adapter_config.json": b"{}" + extra}


def test_publish_resolve_and_idempotent_republish(client, alice):
    name = create_repo(client, alice, "alice")
    first = publish(client, alice, f"alice/{name}", "1.0.0", _files())
    assert first.status_code == 201, first.text
    body = first.json()
    assert len(body["commit"]) == 40 and body["author"] == "alice"
    assert body["metadata"]["method"] == "lora" and body["metadata"]["pinned"] is True
    again = publish(client, alice, f"alice/{name}", "1.0.0", _files())
    assert again.status_code == 200 and again.json()["commit"] == body["commit"]
    differs = publish(client, alice, f"alice/{name}", "1.0.0", _files(b" "))
    assert differs.status_code == 409 and differs.json()["error"]["code"] == "conflict"
    repo = client.get(f"/api/v1/repos/alice/{name}").json()
    assert repo["latest_version"] == "1.0.0" and repo["metadata"]["tags"] == ["demo", "lora"]
    by_commit = client.get(f"/api/v1/repos/alice/{name}/resolve", params={"ref": body["commit"]}).json()
    assert by_commit["version"] == "1.0.0"
    assert {f["path"] for f in by_commit["files"]} == set(_files())
    assert client.get(f"/api/v1/repos/alice/{name}").json()["downloads"] == 0  # resolving is not a pull


def test_missing_blobs_are_listed(client, alice):
    name = create_repo(client, alice, "alice")
    data = b"never uploaded " + name.encode()
    r = publish(client, alice, f"alice/{name}", "1.0.0", {"x.txt": data}, upload_blobs=False)
    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_blobs"
    assert digest_of(data) in r.json()["error"]["message"]


@pytest.mark.parametrize("path", ["../x", "/etc/x", "a\\..\\b", "a/../b", "./a", "a//b", "C:/x"])
def test_unsafe_paths_are_refused(client, alice, path):
    name = create_repo(client, alice, "alice")
    r = publish(client, alice, f"alice/{name}", "1.0.0", {path: b"data"})
    assert r.status_code == 422 and "path" in r.json()["error"]["message"]


def _torch_zip() -> bytes:
    """What ``torch.save`` writes: a zip archive holding ``archive/data.pkl`` (written here with zipfile)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": [0.0] * 4}, protocol=2))
        archive.writestr("archive/version", b"3\n")
    return buf.getvalue()


PICKLES = {f"data-p{p}.txt": pickle.dumps({"weights": [1, 2, 3]}, protocol=p) for p in range(6)}
PICKLES.update({"notes.md": b"(lp0\nI1\naI2\na.", "model.pt": _torch_zip(), "sub/config.json": _torch_zip()})


@pytest.mark.parametrize("path", sorted(PICKLES))
def test_pickles_are_refused_by_content(client, alice, path):
    name = create_repo(client, alice, "alice")
    r = publish(client, alice, f"alice/{name}", "1.0.0", {**_files(), path: PICKLES[path]})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == f"{path}: pickle formats are refused; save weights as .safetensors"
    assert client.get(f"/api/v1/repos/alice/{name}/versions", headers=auth(alice)).json()["items"] == []


def test_a_bin_that_is_no_pickle_is_an_ordinary_file(client, alice):
    name = create_repo(client, alice, "alice")
    data = bytes(range(256)) * 64
    r = publish(client, alice, f"alice/{name}", "1.0.0", {**_files(), "pytorch_model.bin": data, "tok.pkl": b"{}"})
    assert r.status_code == 201, r.text
    assert {"pytorch_model.bin", "tok.pkl"} <= {f["path"] for f in r.json()["files"]}


GOOD = safetensors_bytes({"a": ("F32", [2], bytes(8)), "b": ("F16", [2], bytes(4))})
BAD_SAFETENSORS = {
    "truncated": GOOD[:-3],
    "overlap": raw_safetensors(
        {
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
        },
        bytes(12),
    ),
    "gap": raw_safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8)),
    "shape_mismatch": raw_safetensors({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)),
    "unknown_dtype": raw_safetensors({"a": {"dtype": "Q4", "shape": [8], "data_offsets": [0, 8]}}, bytes(8)),
    "huge_header": struct.pack("<Q", 2**40) + b"{}",
    "not_json": struct.pack("<Q", 4) + b"nope",
    "trailing_bytes": GOOD + b"xx",
    "too_short": b"abc",
}


@pytest.mark.parametrize("case", sorted(BAD_SAFETENSORS))
def test_malformed_safetensors_are_refused(client, alice, case):
    name = create_repo(client, alice, "alice")
    r = publish(client, alice, f"alice/{name}", "1.0.0", {"adapter_model.safetensors": BAD_SAFETENSORS[case]})
    assert r.status_code == 422, r.text
    assert "adapter_model.safetensors" in r.json()["error"]["message"]
    assert client.get(f"/api/v1/repos/alice/{name}/versions").json()["items"] == []


def test_yank_delete_and_name_reservation(client, alice):
    name = create_repo(client, alice, "alice")
    repo = f"alice/{name}"
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        assert publish(client, alice, repo, version, {"f.txt": version.encode()}).status_code == 201
    r = client.post(f"/api/v1/repos/{repo}/versions/1.1.0/yank", json={"reason": "broken"}, headers=auth(alice))
    assert r.status_code == 200 and r.json()["yanked"] is True and r.json()["yank_reason"] == "broken"
    assert client.get(f"/api/v1/repos/{repo}/resolve", params={"ref": "^1"}).json()["version"] == "1.0.0"
    pinned = client.get(f"/api/v1/repos/{repo}/resolve", params={"ref": "1.1.0"}).json()
    assert pinned["yanked"] is True
    assert client.get(f"/api/v1/repos/{repo}/resolve", params={"ref": "main"}).json()["version"] == "2.0.0-rc.1"
    assert client.delete(f"/api/v1/repos/{repo}/versions/1.0.0", headers=auth(alice)).status_code == 204
    assert client.get(f"/api/v1/repos/{repo}/resolve", params={"ref": "1.0.0"}).status_code == 404
    reuse = publish(client, alice, repo, "1.0.0", {"f.txt": b"1.0.0"})
    assert reuse.status_code == 409 and "reused" in reuse.json()["error"]["message"]
    listed = [v["version"] for v in client.get(f"/api/v1/repos/{repo}/versions").json()["items"]]
    assert listed == ["2.0.0-rc.1", "1.1.0"]


def test_range_downloads(client, alice):
    name = create_repo(client, alice, "alice")
    data = bytes(range(256)) * 4
    assert publish(client, alice, f"alice/{name}", "1.0.0", {"d.bin.txt": data}).status_code == 201
    url = f"/api/v1/repos/alice/{name}/files/1.0.0/d.bin.txt"
    assert client.get(url).content == data
    part = client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    assert client.get(url, headers={"Range": "bytes=-5"}).content == data[-5:]
    assert client.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    blob = client.get(f"/api/v1/repos/alice/{name}/blobs/{digest_of(data)}", headers={"Range": "bytes=1000-"})
    assert blob.status_code == 206 and blob.content == data[1000:]
    other = digest_of(b"not in this repo")
    upload(client, alice, b"not in this repo")
    assert client.get(f"/api/v1/repos/alice/{name}/blobs/{other}").status_code == 404


def test_auth_rules(client, server, alice):
    reader = server.token("rita", "read")
    bob = server.token("bob", "write")
    body = {"namespace": "alice", "name": "rules", "private": True}
    assert client.post("/api/v1/repos", json=body).status_code == 401
    assert client.post("/api/v1/repos", json=body, headers=auth(reader)).status_code == 403
    assert client.post("/api/v1/repos", json=body, headers=auth(bob)).status_code == 403
    assert client.post("/api/v1/repos", json=body, headers=auth(alice)).status_code == 201
    assert client.post("/api/v1/repos", json=body, headers=auth(alice)).status_code == 409
    assert client.post("/api/v1/repos", json={**body, "namespace": "acme"}, headers=auth(alice)).status_code == 201
    assert publish(client, alice, "alice/rules", "1.0.0", {"a.txt": b"secret"}).status_code == 201
    for who in (None, bob, reader):
        r = client.get("/api/v1/repos/alice/rules", headers=auth(who))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert client.get("/api/v1/repos/alice/rules/files/main/a.txt", headers=auth(who)).status_code == 404
        assert "alice/rules" not in [i["id"] for i in client.get("/api/v1/search", headers=auth(who)).json()["items"]]
    assert client.get("/api/v1/repos/alice/rules/files/main/a.txt", headers=auth(alice)).content == b"secret"
    assert publish(client, bob, "alice/rules", "1.0.1", {"a.txt": b"x"}).status_code == 404
    assert client.delete("/api/v1/repos/alice/rules", headers=auth(bob)).status_code == 404
    assert client.get("/api/v1/whoami", headers=auth(alice)).json() == {
        "user": "alice",
        "orgs": ["acme"],
        "scope": "write",
    }
    assert client.get("/api/v1/whoami").status_code == 401
    assert client.get("/api/v1/whoami", headers={"Authorization": "Basic x"}).status_code == 401
    assert client.delete("/api/v1/repos/alice/rules", headers=auth(alice)).status_code == 204
    assert client.get("/api/v1/repos/alice/rules", headers=auth(alice)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"version": "one", "files": [{"path": "a", "size": 1, "digest": "sha256:" + "0" * 64}]},
        {"version": "1.0.0", "files": []},
        {"version": "1.0.0", "files": "nope"},
        {"version": "1.0.0", "files": [{"path": "a", "size": -1, "digest": "sha256:" + "0" * 64}]},
        {"version": "1.0.0", "files": [{"path": "a", "size": 1, "digest": "md5:x"}]},
        {"version": 1},
    ],
)
def test_bad_publish_bodies_are_client_errors(client, alice, body):
    name = create_repo(client, alice, "alice")
    r = client.post(f"/api/v1/repos/alice/{name}/versions", json=body, headers=auth(alice))
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == "invalid", r.text


def test_garbage_requests_never_500(client, alice):
    assert (
        client.post(
            "/api/v1/repos", content=b"not json", headers={**auth(alice), "Content-Type": "application/json"}
        ).status_code
        == 422
    )
    assert client.post("/api/v1/repos", json={"namespace": "../x", "name": "y"}, headers=auth(alice)).status_code == 400
    assert client.get("/api/v1/search", params={"limit": 1000}).status_code == 400
    assert client.get("/api/v1/search", params={"cursor": "%%%"}).status_code == 400
    assert client.get("/api/v1/repos/alice/none/resolve", params={"ref": ">=x"}).status_code == 404
    assert json.loads(client.get("/api/v1/nowhere").text)["error"]["code"] == "not_found"

"""Small raw-HTTP helpers for the server suite: upload a blob, publish a version, build
safetensors bytes — so tests speak the wire protocol exactly as documented."""

from __future__ import annotations

import hashlib
import json
import struct
import time
import uuid

import httpx


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def safetensors_bytes(tensors: dict[str, tuple[str, list[int], bytes]] | None = None) -> bytes:
    tensors = tensors or {"w": ("F32", [2, 2], bytes(range(16)))}
    header, offset, data = {}, 0, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def raw_safetensors(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def upload(client: httpx.Client, token: str, data: bytes, chunk: int = 7) -> str:
    upload_id = client.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        r = client.patch(
            f"/api/v1/uploads/{upload_id}",
            content=piece,
            headers={**auth(token), "Content-Range": f"bytes {start}-{start + len(piece) - 1}/*"},
        )
        assert r.status_code == 202, r.text
    r = client.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest_of(data)}, headers=auth(token))
    assert r.status_code == 201, r.text
    return digest_of(data)


def create_repo(
    client: httpx.Client, token: str, namespace: str, name: str | None = None, private: bool = False
) -> str:
    name = name or f"r-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/v1/repos", json={"namespace": namespace, "name": name, "private": private}, headers=auth(token)
    )
    assert r.status_code == 201, r.text
    return name


def publish(
    client: httpx.Client, token: str, repo: str, version: str, files: dict[str, bytes], upload_blobs: bool = True
) -> httpx.Response:
    manifest = []
    for path, data in files.items():
        if upload_blobs:
            upload(client, token, data, chunk=max(len(data), 1))
        manifest.append({"path": path, "size": len(data), "digest": digest_of(data)})
    return client.post(
        f"/api/v1/repos/{repo}/versions", json={"version": version, "files": manifest}, headers=auth(token)
    )


def wait_for_downloads(client: httpx.Client, repo: str, expected: int, timeout: float = 10.0) -> int:
    """Download counts are flushed in the background: poll until ``repo`` shows ``expected``."""
    deadline = time.monotonic() + timeout
    while True:
        seen = client.get(f"/api/v1/repos/{repo}").json()["downloads"]
        if seen >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)

"""What a stranger can make the hub store and hold in memory. Quotas used to ignore uploaded but
unpublished blobs and the blobs of failed HF commits, and gc never ran by itself (21.4 MB stored
under a 64 KiB quota). An HF NDJSON commit cost ~4.7x its size in memory, with no bound on
concurrent commits, and a 30 MB newline flood in a commit message was parsed before the message
limit (413 after +208 MB)."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
import psutil

from tests.security.accountability_support import auth, create_repo, hub_on, one_line, stored_blobs  # noqa: F401

QUOTA = 64 * 1024


def _finish_upload(c: httpx.Client, token: str, data: bytes) -> httpx.Response:
    upload_id = c.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
    digest = "sha256:" + __import__("hashlib").sha256(data).hexdigest()
    return c.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest}, content=data, headers=auth(token))


def _blob_files(hub) -> int:
    return len(stored_blobs(hub))


def _ndjson(*lines: dict) -> bytes:
    return b"\n".join(json.dumps(line).encode() for line in lines)


def test_unpublished_bytes_count_and_gc_collects_them_by_itself(hub_on):
    # a grace long enough that gc leaves the orphans alone until the quota is read, even on a loaded machine
    hub = hub_on(
        env={"HUB_NAMESPACE_QUOTA_BYTES": str(QUOTA), "HUB_GC_INTERVAL_SECONDS": "1", "HUB_GC_GRACE_SECONDS": "8"}
    )
    token, admin = hub.token("mallory", "write"), hub.token("root", "admin")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        create_repo(c, token, "mallory", "lora")
        assert _finish_upload(c, token, os.urandom(40 * 1024)).status_code == 201  # never published
        bad_weights = base64.b64encode(b"\xff" * 20 * 1024).decode()  # not safetensors: the commit fails
        r = c.post(
            "/api/models/mallory/lora/commit/main",
            headers=auth(token),
            content=_ndjson(
                {"key": "header", "value": {"summary": "x"}},
                {"key": "file", "value": {"content": bad_weights, "path": "w.safetensors", "encoding": "base64"}},
            ),
        )
        assert r.status_code == 400 and r.headers["x-error-code"] == "BadRequest"
        used = c.get("/api/v1/admin/quotas/mallory", headers=auth(admin)).json()["used_bytes"]
        assert used == 60 * 1024  # both orphans count
        refused = _finish_upload(c, token, os.urandom(10 * 1024))
        assert refused.status_code == 413 and "unpublished uploads count" in one_line(refused)
        deadline = time.monotonic() + 40
        while _blob_files(hub) and time.monotonic() < deadline:  # the scheduled gc, nobody ran it
            time.sleep(0.3)
        assert _blob_files(hub) == 0
        assert c.get("/api/v1/admin/quotas/mallory", headers=auth(admin)).json()["used_bytes"] == 0
        assert _finish_upload(c, token, os.urandom(40 * 1024)).status_code == 201


def _rss(pids: list[int]) -> int:
    """Resident memory of every host process and its children (one process embedded, two on two hosts)."""
    total = 0
    for pid in pids:
        process = psutil.Process(pid)
        total += sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    return total


def _one_host_url(hub) -> str:
    """The address of one host: the in-flight bound is per host, so both commits must reach the same one."""
    return hub.hosts[0].url if hasattr(hub, "hosts") else hub.url


class _Peak:
    def __init__(self, pids: list[int]) -> None:
        self.pid, self.before, self.peak, self.stop = pids, _rss(pids), 0, threading.Event()
        self.thread = threading.Thread(target=self._watch)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, _rss(self.pid))
            time.sleep(0.01)

    def extra(self) -> int:
        self.stop.set()
        self.thread.join()
        return self.peak - self.before


def _raw_post(url: str, path: str, token: str, length: int) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(
        (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        more = sock.recv(65536)
        if not more:
            break
        data += more
    sock.close()
    return data


def test_commit_message_flood_is_refused_while_it_arrives(hub_on):
    hub = hub_on()
    token = hub.token("mallory", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        create_repo(c, token, "mallory", "lora")
    flood = b'{"key": "header", "value": {"summary": "' + b"\\n" * (15 * 1024 * 1024) + b'"}}\n'  # 30 MB
    peak = _Peak(hub.pids)
    sock = _raw_post(hub.url, "/api/models/mallory/lora/commit/main", token, len(flood))
    sent = 0
    try:
        for start in range(0, len(flood), 256 * 1024):
            sock.sendall(flood[start : start + 256 * 1024])
            sent += 256 * 1024
    except OSError:  # the server answered and closed while we were still sending
        pass
    answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"the commit message is longer than the limit of 65536 characters" in answer
    assert peak.extra() < 40 * 1024 * 1024  # it was +208 MB
    assert _blob_files(hub) == 0


def test_large_inline_file_is_stored_with_bounded_memory(hub_on):
    hub = hub_on()
    token = hub.token("alice", "write")
    data = os.urandom(40 * 1024 * 1024)
    body = _ndjson(
        {"key": "header", "value": {"summary": "big"}},
        {"key": "file", "value": {"content": base64.b64encode(data).decode(), "path": "big.txt", "encoding": "base64"}},
    )
    with httpx.Client(base_url=hub.url, timeout=120) as c:
        create_repo(c, token, "alice", "big")
        peak = _Peak(hub.pids)
        r = c.post("/api/models/alice/big/commit/main", content=body, headers=auth(token))
        extra = peak.extra()
        assert r.status_code == 200, r.text[:300]
        assert c.get("/alice/big/resolve/main/big.txt").content == data
    assert extra < 40 * 1024 * 1024, extra  # 53 MB of body: it used to cost ~4.7x, ~250 MB


def test_commit_bytes_in_flight_are_bounded(hub_on):
    hub = hub_on(env={"HUB_HF_MAX_COMMIT_BYTES_IN_FLIGHT": str(1024 * 1024)})
    token = hub.token("alice", "write")
    host = _one_host_url(hub)
    with httpx.Client(base_url=host, timeout=30) as c:
        create_repo(c, token, "alice", "lora")
        holder = _raw_post(host, "/api/models/alice/lora/commit/main", token, 900_000)
        holder.sendall(b'{"key": "header", "value": {"summary": "')  # and then slowly, nothing
        time.sleep(0.3)
        began = time.monotonic()
        r = c.post(
            "/api/models/alice/lora/commit/main",
            headers=auth(token),
            content=_ndjson(
                {"key": "header", "value": {"summary": "x"}},
                {
                    "key": "file",
                    "value": {
                        "content": base64.b64encode(b"x" * 600_000).decode(),
                        "path": "a.txt",
                        "encoding": "base64",
                    },
                },
            ),
        )
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "the hub is reading 900000 bytes of commits already" in r.headers["x-error-message"]
        assert time.monotonic() - began < 10
        holder.close()
        time.sleep(0.5)
        small = _ndjson(
            {"key": "header", "value": {"summary": "x"}},
            {
                "key": "file",
                "value": {"content": base64.b64encode(b"y").decode(), "path": "b.txt", "encoding": "base64"},
            },
        )
        assert c.post("/api/models/alice/lora/commit/main", headers=auth(token), content=small).status_code == 200

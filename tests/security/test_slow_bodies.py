"""Slow upload bodies (one byte, then silence) on many connections from one account: they used to
hold every worker thread (the body was pulled from a worker), so /healthz, the API, the HF API and
the site timed out for everyone. Now bodies are read on the event loop: other clients stay fast,
the account's bodies beyond its concurrent-upload limit get 429 at once, and the admitted ones
are cut with 408 once they fall below the minimum body rate. Nothing of them is stored."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from tests.security.accountability_support import auth, hub_on, one_line, upload  # noqa: F401

SLOW = {"HUB_BODY_GRACE_SECONDS": "2", "HUB_MIN_BODY_RATE": "1024"}
READS = ("/healthz", "/api/v1/search?q=lora", "/api/models?search=lora", "/")


def _slow_patch(url: str, token: str, upload_id: str) -> socket.socket:
    """A PATCH announcing 1,000 bytes that sends one and then nothing more."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(
        (
            f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: 1000\r\n"
            "Content-Range: bytes 0-999/*\r\n\r\nx"
        ).encode()
    )
    return sock


def _status(sock: socket.socket) -> tuple[int, bytes]:
    """The status code and body of the answer (read until the server closes or the body is in)."""
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        try:
            more = sock.recv(65536)
        except OSError:
            break
        if not more:
            break
        data += more
    sock.close()
    return int(data.split(b" ", 2)[1]), data.partition(b"\r\n\r\n")[2]


def _reads_stay_fast(hub) -> float:
    """The slowest of a few reads by another (anonymous) client; each must succeed."""
    slowest = 0.0
    with httpx.Client(base_url=_one_host(hub), timeout=20) as reader:
        for _ in range(3):
            for path in READS:
                began = time.monotonic()
                assert reader.get(path).status_code == 200, path
                slowest = max(slowest, time.monotonic() - began)
    return slowest


def _one_host(hub) -> str:
    """The slow bodies go to one host directly: the limits are per host, and on the two-host
    deployment the test's round-robin proxy in front is not what is being tested."""
    return getattr(hub, "hosts", [hub])[0].url


def test_slow_bodies_hold_no_worker_thread(hub_on):
    hub = hub_on(env={**SLOW, "HUB_MAX_CONCURRENT_UPLOADS": "100"})
    token = hub.token("mallory", "write")
    with httpx.Client(base_url=hub.url, timeout=20) as c:
        upload_id = c.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        socks = [_slow_patch(_one_host(hub), token, upload_id) for _ in range(45)]  # more than the 40 worker threads
        time.sleep(0.5)
        assert _reads_stay_fast(hub) < 5.0  # used to time out: every thread waited on a slow body
        answers = [_status(s) for s in socks]
        assert {status for status, _ in answers} == {408}
        assert b"request body arrived slower than 1024 bytes per second" in answers[0][1]
        assert c.get(f"/api/v1/uploads/{upload_id}", headers=auth(token)).json()["offset"] == 0
        upload(c, token, b"a normal upload still works", chunk=9)


def test_one_account_gets_a_bounded_number_of_bodies_in_flight(hub_on):
    hub = hub_on(env={**SLOW, "HUB_MAX_CONCURRENT_UPLOADS": "4"})
    token = hub.token("mallory", "write")
    with httpx.Client(base_url=hub.url, timeout=20) as c:
        upload_id = c.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        socks = [_slow_patch(_one_host(hub), token, upload_id) for _ in range(12)]
        began = time.monotonic()
        answers = [_status(s) for s in socks]
        statuses = sorted(status for status, _ in answers)
        assert statuses == [408] * 4 + [429] * 8
        refused = next(body for status, body in answers if status == 429)
        assert b"mallory already sends 4 upload bodies at once" in refused
        assert token.encode() not in refused
        assert time.monotonic() - began < 15
        second = hub.token("mallory", "write")  # another token of the same account: the account's limit holds
        held = [_slow_patch(_one_host(hub), token, upload_id) for _ in range(4)]
        time.sleep(0.5)
        with httpx.Client(base_url=_one_host(hub), timeout=20) as host:  # the limits are per host
            r = host.patch("/api/v1/uploads/no-such-upload", content=b"x", headers=auth(token))
        assert r.status_code == 429  # answered before the upload session is looked up (that would be a 404)
        assert one_line(r).startswith("mallory already sends 4 upload bodies at once")
        extra = _slow_patch(_one_host(hub), second, upload_id)
        status, body = _status(extra)
        assert status == 429 and b"mallory already sends 4 upload bodies at once" in body
        assert sorted(_status(s)[0] for s in held) == [408] * 4
        other = hub.token("alice", "write")  # another account is not affected
        upload(c, other, b"bytes of alice", chunk=5)
        assert c.get(f"/api/v1/uploads/{upload_id}", headers=auth(token)).json()["offset"] == 0


def test_upload_content_range_with_huge_numbers_is_one_line_400(hub_on):
    hub = hub_on()
    token = hub.token("mallory", "write")
    with httpx.Client(base_url=hub.url, timeout=20) as c:
        upload_id = c.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        for header in (
            "bytes " + "9" * 5000 + "-" + "9" * 5000 + "/*",
            "bytes 0-" + "9" * 40 + "/*",
            "bytes 5-1/*",
            "items 0-1/*",
        ):
            r = c.patch(f"/api/v1/uploads/{upload_id}", content=b"xy", headers={**auth(token), "Content-Range": header})
            assert r.status_code == 400, (header[:30], r.status_code)
            assert one_line(r).startswith("bad Content-Range")
        assert c.get(f"/api/v1/uploads/{upload_id}", headers=auth(token)).json()["offset"] == 0


def test_a_body_longer_than_a_segment_is_stored_in_order(hub_on):
    """A chunk is stored a segment at a time; the parts join back into exactly the bytes sent."""
    hub = hub_on(env={"HUB_UPLOAD_SEGMENT_BYTES": "1000"})
    token = hub.token("alice", "write")
    data = bytes(range(256)) * 18  # 4,608 bytes: chunks of 2,300 make 3 segments each
    with httpx.Client(base_url=hub.url, timeout=20) as c:
        digest = upload(c, token, data, chunk=2300)
        assert c.head(f"/api/v1/blobs/{digest}", headers=auth(token)).headers["content-length"] == str(len(data))

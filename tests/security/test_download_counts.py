"""Download counts are honest and cheap: one per real pull (not ``hub info``, not a cached
re-pull), buffered off the request path so an anonymous resolve never waits for SQLite's
write lock, and flushed in one write at shutdown."""

from __future__ import annotations

import sqlite3
import time
import warnings

import httpx
import pytest

from hub_client import HubClient
from tests.security.accountability_support import HubProcess, auth, create_repo, publish, wait_for_downloads


def _published(hub) -> str:
    token = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, token, "alice", "lora")
        assert publish(client, token, "alice/lora", "1.0.0", {"a.txt": b"adapter bytes"}).status_code == 201
    return token


def test_counted_once_per_real_pull(hub_server, tmp_path):
    _published(hub_server)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with HubClient(hub_server.url, cache_dir=tmp_path / "one", progress=False) as reader:
            reader.info("alice/lora")
            reader.resolve("alice/lora")
            reader.pull("alice/lora")
            reader.pull("alice/lora")  # complete in the cache: not a download
            reader.pull("alice/lora", "1.0.0")
        with HubClient(hub_server.url, cache_dir=tmp_path / "two", progress=False) as other:
            other.pull("alice/lora", "1.0.0")
    with httpx.Client(base_url=hub_server.url) as client:
        assert wait_for_downloads(client, "alice/lora", 2) == 2
        time.sleep(0.5)  # nothing else arrives later
        assert client.get("/api/v1/repos/alice/lora").json()["downloads"] == 2
        assert client.get("/api/v1/repos/alice/lora/versions").json()["items"][0]["downloads"] == 2
        r = client.post("/api/v1/repos/alice/lora/versions/9.9.9/pulls")
        assert r.status_code == 404 and r.json()["error"]["message"] == "no version matches '9.9.9'"


def test_reads_never_wait_for_the_write_lock(hub_server):
    if not (hub_server.data_dir / "hub.sqlite3").exists():
        pytest.skip("SQLite's write lock: the database here is PostgreSQL")
    _published(hub_server)
    holder = sqlite3.connect(hub_server.data_dir / "hub.sqlite3", isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock
    try:
        with httpx.Client(base_url=hub_server.url, timeout=10) as client:
            started = time.monotonic()
            for _ in range(5):
                assert client.get("/api/v1/repos/alice/lora/resolve").status_code == 200
                assert client.post("/api/v1/repos/alice/lora/versions/1.0.0/pulls").status_code == 202
            assert time.monotonic() - started < 8  # the server's busy timeout is 60 s per write
    finally:
        holder.rollback()
        holder.close()
    with httpx.Client(base_url=hub_server.url) as client:
        assert wait_for_downloads(client, "alice/lora", 5) == 5


def test_buffered_counts_are_written_at_shutdown(tmp_path):
    hub = HubProcess(tmp_path / "data", env={"HUB_DOWNLOAD_FLUSH_SECONDS": "3600"}).start()
    try:
        token = _published(hub)
        with httpx.Client(base_url=hub.url, timeout=30) as client:
            for _ in range(3):
                client.post("/api/v1/repos/alice/lora/versions/1.0.0/pulls", headers=auth(token))
            assert client.get("/api/v1/repos/alice/lora").json()["downloads"] == 0  # still buffered
        hub.restart()  # graceful stop: the lifespan flushes
        with httpx.Client(base_url=hub.url) as client:
            assert client.get("/api/v1/repos/alice/lora").json()["downloads"] == 3
    finally:
        hub.close()

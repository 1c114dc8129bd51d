"""One hub on two stateless hosts (PostgreSQL + a real S3 server) behind a per-request
round-robin proxy: any host continues any upload, a host keeps nothing on disk, stale
sessions and abandoned S3 multipart uploads are swept, migrations run once however many
hosts start, and a host killed with SIGKILL in the middle of 20 pushes loses nothing."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hub_client import HubClient, HubError
from tests.support.deployment import TwoHosts
from tests.support.hub_http import auth, digest_of
from tests.support.hub_process import postgres_or_skip
from tests.support.s3_server import CREDENTIALS


@pytest.fixture(scope="module")
def two_hosts(s3_server, tmp_path_factory):
    postgres_or_skip().drop()  # skips without HUB_TEST_DATABASE_URL
    hub = TwoHosts(tmp_path_factory.mktemp("stateless") / "data", s3_server).start()
    yield hub
    hub.close()


def _upload_across(hosts: list[str], token: str, data: bytes, step: int) -> httpx.Response:
    """Start on the first host, send chunk i to host i mod n, finish on the next one."""
    upload_id = httpx.post(hosts[0] + "/api/v1/uploads", headers=auth(token)).json()["upload_id"]
    for i, start in enumerate(range(0, len(data), step)):
        piece = data[start : start + step]
        r = httpx.patch(
            f"{hosts[i % len(hosts)]}/api/v1/uploads/{upload_id}",
            content=piece,
            headers={**auth(token), "Content-Range": f"bytes {start}-{start + len(piece) - 1}/*"},
        )
        assert r.status_code == 202, r.text
        status = httpx.get(f"{hosts[(i + 1) % len(hosts)]}/api/v1/uploads/{upload_id}", headers=auth(token))
        assert status.json()["offset"] == start + len(piece)
    return httpx.put(f"{hosts[1]}/api/v1/uploads/{upload_id}", params={"digest": digest_of(data)}, headers=auth(token))


def test_any_host_continues_any_upload_and_keeps_nothing_locally(two_hosts):
    token = two_hosts.token("roamer")
    data = os.urandom(300_000)
    r = _upload_across([h.url for h in two_hosts.hosts], token, data, step=70_000)
    assert r.status_code == 201 and r.json() == {"digest": digest_of(data), "size": len(data)}
    assert digest_of(data) in two_hosts.stored_digests()
    # no SQLite, no blobs, no staging, no lock file, no signing key: on either host
    assert not any(host.data_dir.exists() for host in two_hosts.hosts)


def test_an_upload_resumes_on_another_host_after_a_kill(two_hosts):
    token = two_hosts.token("survivor")
    first, second = two_hosts.hosts
    data = os.urandom(200_000)
    upload_id = httpx.post(first.url + "/api/v1/uploads", headers=auth(token)).json()["upload_id"]
    httpx.patch(
        f"{first.url}/api/v1/uploads/{upload_id}",
        content=data[:120_000],
        headers={**auth(token), "Content-Range": "bytes 0-119999/*"},
    )
    first.crash()
    try:
        offset = httpx.get(f"{second.url}/api/v1/uploads/{upload_id}", headers=auth(token)).json()["offset"]
        assert offset == 120_000
        r = httpx.put(
            f"{second.url}/api/v1/uploads/{upload_id}",
            params={"digest": digest_of(data)},
            content=data[offset:],
            headers=auth(token),
        )
        assert r.status_code == 201
        wrong = httpx.post(second.url + "/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        httpx.patch(f"{second.url}/api/v1/uploads/{wrong}", content=b"abc", headers=auth(token))
        bad = httpx.put(
            f"{second.url}/api/v1/uploads/{wrong}", params={"digest": digest_of(b"xyz")}, headers=auth(token)
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "digest_mismatch"
        assert digest_of(b"abc") not in two_hosts.stored_digests()
        assert digest_of(b"xyz") not in two_hosts.stored_digests()
    finally:
        two_hosts.start_hosts()


def test_stale_sessions_and_abandoned_multipart_uploads_are_swept(two_hosts, monkeypatch):
    from hub_server.app import build_hub
    from hub_server.services.uploads import cleanup_stale

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    token = two_hosts.token("idle")
    upload_id = httpx.post(two_hosts.url + "/api/v1/uploads", headers=auth(token)).json()["upload_id"]
    httpx.patch(f"{two_hosts.url}/api/v1/uploads/{upload_id}", content=b"x" * 1000, headers=auth(token))
    hub = build_hub(two_hosts.settings.model_copy(update={"upload_ttl_seconds": 60}))
    try:
        store = hub.store
        store.client.create_multipart_upload(Bucket=store.bucket, Key=store._join("tmp", "killed-mid-put"))
        assert upload_id in dict(store.staged_sessions())
        assert cleanup_stale(hub) == 0  # nothing is older than the TTL yet
        assert cleanup_stale(hub, now=time.time() + 120) >= 1
        assert upload_id not in dict(store.staged_sessions())
        assert (
            store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix + "/").get("Uploads", []) == []
        )
    finally:
        hub.db.dispose()
    assert httpx.get(f"{two_hosts.url}/api/v1/uploads/{upload_id}", headers=auth(token)).status_code == 404


def test_hosts_starting_together_migrate_once(tmp_path):
    from sqlalchemy import text

    from hub_server.db import Database, upgrade

    database = postgres_or_skip()
    try:
        dbs = [Database(database.url) for _ in range(4)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(upgrade, dbs))
        with dbs[0].engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM upload_sessions")).scalar() == 0
        for db in dbs:
            db.dispose()
    finally:
        database.drop()


def test_kill_one_host_during_twenty_pushes(two_hosts, tmp_path):
    """SIGKILL one host mid-way: every push completes (the client retries on the survivor) or
    leaves no version; every version pulls byte-identical; no referenced blob is missing."""
    token = two_hosts.token("crowd")
    sources = {}
    for i in range(20):
        folder = tmp_path / f"src{i}"
        folder.mkdir()
        (folder / "weights.raw").write_bytes(os.urandom(256 * 1024 + i))
        (folder / "shared.txt").write_bytes(b"the same in every push\n")
        sources[f"crowd/r{i}"] = folder
    started = threading.Event()
    outcomes: dict[str, object] = {}

    def push(repo: str) -> None:
        with HubClient(
            two_hosts.url, token, cache_dir=tmp_path / "c" / repo, progress=False, chunk_size=32 * 1024
        ) as client:
            started.set()
            try:
                outcomes[repo] = client.push(sources[repo], repo, "1.0.0", kind="base")
            except HubError as error:
                outcomes[repo] = error

    threads = [threading.Thread(target=push, args=(repo,)) for repo in sources]
    for t in threads:
        t.start()
    started.wait(30)
    time.sleep(1.0)
    two_hosts.hosts[1].crash()
    finished_before_the_kill = len(outcomes)
    for t in threads:
        t.join(300)
    try:
        completed = [repo for repo, outcome in outcomes.items() if not isinstance(outcome, Exception)]
        with HubClient(two_hosts.url, None, cache_dir=tmp_path / "reader", progress=False) as reader:
            for repo, folder in sources.items():
                names = [v["version"] for v in reader.versions(repo)] if _exists(reader, repo) else []
                if repo not in completed:
                    assert names == [], f"{repo} failed ({outcomes[repo]}) but left {names}"
                    continue
                assert names == ["1.0.0"]
                pulled = reader.pull(repo, "1.0.0")
                for f in folder.iterdir():
                    assert (pulled / f.name).read_bytes() == f.read_bytes()
            referenced = {f["digest"] for repo in completed for f in reader.resolve(repo, "1.0.0")["files"]}
        assert referenced <= two_hosts.stored_digests()
        assert finished_before_the_kill < 20  # the kill really landed in the middle
        assert len(completed) == 20, {r: str(o) for r, o in outcomes.items() if isinstance(o, Exception)}
    finally:
        two_hosts.start_hosts()


def _exists(reader: HubClient, repo: str) -> bool:
    from hub_client import NotFound

    try:
        reader.repo(repo)
        return True
    except NotFound:
        return False

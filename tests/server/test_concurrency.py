"""Concurrency and crash safety with real server processes: racing publishers, and a
SIGKILL in the middle of many uploads."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.hub_http import auth, create_repo, digest_of, publish, upload
from tests.support.hub_process import HubProcess


@pytest.fixture
def two_worker_server(tmp_path_factory, database_url):
    hub = HubProcess(tmp_path_factory.mktemp("hub-data"), database_url=database_url, workers=2).start()
    yield hub
    hub.close()


def test_ten_concurrent_publishes_of_one_version(two_worker_server):
    hub = two_worker_server
    token = hub.token("racer", "write")
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        name = create_repo(client, token, "racer")
        same = {"README.md": b"---\ntags: [race]\n---\n", "a.txt": b"same"}
        other = {"README.md": b"---\ntags: [race]\n---\n", "a.txt": b"other"}
        for files in (same, other):
            for data in files.values():
                upload(client, token, data)
    manifests = [same] * 7 + [other] * 3
    barrier = threading.Barrier(len(manifests))

    def attempt(files):
        with httpx.Client(base_url=hub.url, timeout=60) as c:
            barrier.wait()
            return files, publish(c, token, f"racer/{name}", "1.0.0", files, upload_blobs=False)

    with ThreadPoolExecutor(len(manifests)) as pool:
        results = list(pool.map(attempt, manifests))
    winners = [(files, r) for files, r in results if r.status_code == 201]
    assert len(winners) == 1, [r.status_code for _, r in results]
    winning_files = winners[0][0]
    for files, r in results:
        if r is winners[0][1]:
            continue
        assert r.status_code == (200 if files is winning_files else 409), r.text
    with httpx.Client(base_url=hub.url) as client:
        detail = client.get(f"/api/v1/repos/racer/{name}/resolve", params={"ref": "1.0.0"}).json()
        assert {f["path"]: f["digest"] for f in detail["files"]} == {p: digest_of(d) for p, d in winning_files.items()}
        assert client.get(f"/api/v1/repos/racer/{name}/files/1.0.0/a.txt").content == winning_files["a.txt"]


def _slow_upload(url: str, token: str, data: bytes, started: threading.Event) -> None:
    try:  # a short timeout: a request queued on the dead server's socket gives up soon
        with httpx.Client(base_url=url, timeout=10) as client:
            upload_id = client.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
            step = 64 * 1024
            for start in range(0, len(data), step):
                piece = data[start : start + step]
                client.patch(
                    f"/api/v1/uploads/{upload_id}",
                    content=piece,
                    headers={**auth(token), "Content-Range": f"bytes {start}-{start + len(piece) - 1}/*"},
                )
                started.set()
            client.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest_of(data)}, headers=auth(token))
    except (httpx.HTTPError, KeyError, ValueError):
        pass  # the server was killed under us (behind a balancer: a 502 with no upload id)


def test_kill_during_uploads_leaves_no_partial_state(hub_server):
    token = hub_server.token("crash", "write")
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        names = [create_repo(client, token, "crash") for _ in range(4)]
    payloads = [os.urandom(1024 * 1024 + i) for i in range(20)]
    started = threading.Event()
    threads = [threading.Thread(target=_slow_upload, args=(hub_server.url, token, p, started)) for p in payloads]
    for t in threads:
        t.start()

    def publish_all():
        try:
            with httpx.Client(base_url=hub_server.url, timeout=10) as c:
                for i, name in enumerate(names):
                    chunk = payloads[i * 5 : (i + 1) * 5]
                    c.post(
                        f"/api/v1/repos/crash/{name}/versions",
                        headers=auth(token),
                        json={
                            "version": "1.0.0",
                            "files": [
                                {"path": f"f{j}.txt", "size": len(d), "digest": digest_of(d)}
                                for j, d in enumerate(chunk)
                            ],
                        },
                    )
        except httpx.HTTPError:
            pass

    publisher = threading.Thread(target=publish_all)
    assert started.wait(60)
    publisher.start()
    hub_server.kill()
    for t in threads + [publisher]:
        t.join(60)
    hub_server.restart()

    for path in (hub_server.data_dir / "blobs" / "sha256").rglob("*"):
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    try:
        _check_whole_versions_then_publish_again(hub_server.url, token, names, payloads)
    except httpx.HTTPError as error:  # a hung or refusing server: show what it logged
        pytest.fail(f"after the restart: {error!r}\nserver log:\n{hub_server.log_tail()}")


def _check_whole_versions_then_publish_again(url: str, token: str, names: list[str], payloads: list[bytes]) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        for name in names:
            for version in client.get(f"/api/v1/repos/crash/{name}/versions").json()["items"]:
                detail = client.get(f"/api/v1/repos/crash/{name}/resolve", params={"ref": version["version"]}).json()
                assert len(detail["files"]) == 5  # a visible version is always complete
                for f in detail["files"]:
                    body = client.get(f"/api/v1/repos/crash/{name}/files/1.0.0/{f['path']}").content
                    assert digest_of(body) == f["digest"]
        for i, name in enumerate(names):
            files = {f"f{j}.txt": d for j, d in enumerate(payloads[i * 5 : (i + 1) * 5])}
            r = publish(client, token, f"crash/{name}", "1.0.0", files)
            assert r.status_code in (200, 201), r.text
            for path, data in files.items():
                assert client.get(f"/api/v1/repos/crash/{name}/files/1.0.0/{path}").content == data


def test_racing_publishes_never_pass_the_namespace_quota(two_worker_server):
    """Ten publishes of new 1,000-byte files race into a namespace with room for four: the quota is
    checked again inside the publishing transaction, one namespace at a time, so at most four land.
    Ten members of the org ``quota`` each upload one blob (a user's unpublished uploads count against
    their own namespace, not the org's) and publish it into the org at the same moment."""
    hub = two_worker_server
    admin = hub.token("root", "admin")
    tokens = [hub.token(f"member{i}", "write", ["quota"]) for i in range(10)]
    payloads = [bytes([i]) * 1000 for i in range(10)]
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        names = [create_repo(client, tokens[0], "quota") for _ in payloads]
        for member, data in zip(tokens, payloads, strict=True):
            upload(client, member, data, chunk=len(data))
        assert (
            client.put("/api/v1/admin/quotas/quota", json={"max_bytes": 4500}, headers=auth(admin)).status_code == 200
        )
    barrier = threading.Barrier(len(payloads))

    def attempt(i):
        with httpx.Client(base_url=hub.url, timeout=60) as c:
            barrier.wait()
            return publish(c, tokens[i], f"quota/{names[i]}", "1.0.0", {"a.txt": payloads[i]}, upload_blobs=False)

    with ThreadPoolExecutor(len(payloads)) as pool:
        results = list(pool.map(attempt, range(len(payloads))))
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201] * 4 + [413] * 6, [r.text for r in results]
    with httpx.Client(base_url=hub.url, timeout=60) as client:
        usage = client.get("/api/v1/admin/quotas/quota", headers=auth(admin)).json()
    assert usage["used_bytes"] == 4000 and usage["max_bytes"] == 4500, usage

"""`hub admin gc` removes blobs no version references once they are idle past the grace period,
and never takes a blob from a published version, even with publishes racing it (SQLite and
PostgreSQL, gc in another process like the CLI). On the two-host deployment the operator's gc reads the
same PostgreSQL and S3 bucket the hosts use (``admin_env``)."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from datetime import timedelta

import httpx
from click.testing import CliRunner

from hub_client.cli.main import main
from hub_server.admin import audit_events
from hub_server.app import build_hub
from hub_server.services.gc import collect_garbage
from tests.security.accountability_support import auth, create_repo, digest_of, hub_on, publish, stored_blobs, upload  # noqa: F401  # noqa: F401


def test_gc_removes_only_unreferenced_idle_blobs(hub_on):
    hub = hub_on()
    token = hub.token("alice", "write")
    kept, orphan = b"published bytes", b"uploaded, never published"
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, token, "alice", "lora")
        assert publish(client, token, "alice/lora", "1.0.0", {"a.txt": kept}).status_code == 201
        upload(client, token, orphan)
    env = hub.admin_env()  # an operator's shell beside the hub: its database and blob store
    fresh = CliRunner().invoke(main, ["admin", "gc", "--json"], env=env)  # default grace 1h: too recent
    assert fresh.exit_code == 0 and json.loads(fresh.stdout)["removed_blobs"] == 0
    dry = CliRunner().invoke(main, ["admin", "gc", "--grace", "0s", "--dry-run"], env=env)
    assert dry.exit_code == 0 and dry.stdout.startswith("would remove 1 blobs")
    assert digest_of(orphan).split(":")[1] in stored_blobs(hub)
    bad = CliRunner().invoke(main, ["admin", "gc", "--grace", "soon"], env=env)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: invalid duration") and "Traceback" not in bad.output
    done = CliRunner().invoke(main, ["admin", "gc", "--grace", "0s"], env=env)
    assert done.exit_code == 0 and done.stdout.startswith("removed 1 blobs (25 bytes); kept 1")
    assert stored_blobs(hub) == {digest_of(kept).split(":")[1]}
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        assert client.get("/api/v1/repos/alice/lora/files/1.0.0/a.txt").content == kept
        assert client.head(f"/api/v1/blobs/{digest_of(orphan)}", headers=auth(token)).status_code == 404
    assert audit_events(hub.settings, action="gc.run")["items"][0]["detail"]["removed"] == 1


def _upload_retrying(client, token, data: bytes) -> None:
    for _ in range(10):
        upload_id = client.post("/api/v1/uploads", headers=auth(token)).json()["upload_id"]
        r = client.put(
            f"/api/v1/uploads/{upload_id}", params={"digest": digest_of(data)}, content=data, headers=auth(token)
        )
        if r.status_code == 201:
            return
        assert r.status_code == 409, r.text  # collected while uploading: send it again
    raise AssertionError("upload never succeeded")


GRACE = timedelta(seconds=0.3)


def _publisher(hub, user: str, versions: int, published: dict, errors: list) -> None:
    """Upload each version's blobs, wait until they are about to be idle past the grace (gc may take
    them from then on), then publish: each publish lands next to a gc that wants its blobs."""
    token = hub.token(user, "write")
    shared = b"---\ntags: [shared]\n---\nshared card\n"
    try:
        with httpx.Client(base_url=hub.url, timeout=120) as client:
            create_repo(client, token, user, "a")
            for i in range(versions):
                files = {"README.md": shared, "own.txt": f"{user} {i} ".encode() + os.urandom(64)}
                for data in files.values():
                    _upload_retrying(client, token, data)
                time.sleep(GRACE.total_seconds() + random.uniform(-0.02, 0.03))
                for _ in range(50):
                    r = publish(client, token, f"{user}/a", f"1.0.{i}", files, upload_blobs=False)
                    if r.status_code == 201:
                        published[(user, f"1.0.{i}")] = files
                        break
                    assert r.status_code == 400 and r.json()["error"]["code"] == "missing_blobs", r.text
                    for data in files.values():  # gc took them first: upload again
                        if digest_of(data) in r.json()["error"]["message"]:
                            _upload_retrying(client, token, data)
                else:
                    raise AssertionError("publish never succeeded")
    except BaseException as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)


def test_no_published_version_loses_a_blob_to_a_racing_gc(hub_on, monkeypatch):
    hub = hub_on(workers=2)
    for key, value in hub.admin_env().items():  # this process opens the hub's store as `hub admin gc` would
        monkeypatch.setenv(key, value)
    published: dict = {}
    errors: list = []
    threads = [threading.Thread(target=_publisher, args=(hub, f"p{n}", 10, published, errors)) for n in range(3)]
    gc_side = build_hub(hub.settings)  # what `hub admin gc` opens, in this (another) process
    removed = 0
    try:
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            removed += collect_garbage(gc_side, GRACE).removed_blobs
            time.sleep(random.uniform(0, 0.005))
        for t in threads:
            t.join()
        assert not errors, errors
        time.sleep(GRACE.total_seconds() + 0.2)
        removed += collect_garbage(gc_side, GRACE).removed_blobs
    finally:
        gc_side.db.dispose()
    assert len(published) == 30 and removed > 0  # gc really raced the publishes
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        for (user, version), files in published.items():
            for path, data in files.items():
                r = client.get(f"/api/v1/repos/{user}/a/files/{version}/{path}")
                assert r.status_code == 200 and r.content == data, (user, version, path)
    assert stored_blobs(hub) == {digest_of(d).split(":")[1] for files in published.values() for d in files.values()}

"""Finishing an upload does the same work whether or not its bytes are already on the hub (in
someone's private repo, say): the bytes are verified and written again every time, so neither the
answer nor the work done — and hence the time taken — tells a stranger that those bytes exist.
Timing itself is measured in the bench, never asserted here; this checks the work."""

from __future__ import annotations

import hashlib
import os
import time

import httpx

from tests.security.accountability_support import auth, create_repo, publish, upload
from tests.support.deployment import TwoHosts


class _StoredCopy:
    """When the stored copy of a blob was last written: a file's inode, or an S3 object's
    LastModified (whole seconds, so the finish waits a second first)."""

    def __init__(self, hub, digest: str) -> None:
        self.hub, self.hex = hub, digest.split(":")[1]

    def stamp(self):
        if isinstance(self.hub, TwoHosts):
            key = f"{self.hub.prefix}/sha256/{self.hex}"
            return self.hub.s3.client().head_object(Bucket=self.hub.s3.bucket, Key=key)["LastModified"]
        [stored] = [p for p in self.hub.data_dir.rglob(self.hex) if p.is_file()]
        return os.stat(stored).st_ino

    def read(self) -> bytes:
        if isinstance(self.hub, TwoHosts):
            key = f"{self.hub.prefix}/sha256/{self.hex}"
            return self.hub.s3.client().get_object(Bucket=self.hub.s3.bucket, Key=key)["Body"].read()
        [stored] = [p for p in self.hub.data_dir.rglob(self.hex) if p.is_file()]
        return stored.read_bytes()


def test_finishing_known_bytes_rewrites_them_like_new_ones(hub_server):
    alice = hub_server.token("alice", "write")
    mallory = hub_server.token("mallory", "write")
    secret = os.urandom(64 * 1024)
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        create_repo(client, alice, "alice", "private", private=True)
        assert publish(client, alice, "alice/private", "1.0.0", {"notes.txt": secret}).status_code == 201
        digest = "sha256:" + hashlib.sha256(secret).hexdigest()
        stored = _StoredCopy(hub_server, digest)
        before = stored.stamp()
        if isinstance(hub_server, TwoHosts):
            time.sleep(1.1)  # S3's LastModified counts whole seconds

        fresh = os.urandom(64 * 1024)
        answers = {}
        for label, data in (("known", secret), ("fresh", fresh)):
            upload_id = client.post("/api/v1/uploads", headers=auth(mallory)).json()["upload_id"]
            client.patch(
                f"/api/v1/uploads/{upload_id}",
                content=data,
                headers={**auth(mallory), "Content-Range": f"bytes 0-{len(data) - 1}/*"},
            )
            r = client.put(
                f"/api/v1/uploads/{upload_id}",
                params={"digest": "sha256:" + hashlib.sha256(data).hexdigest()},
                headers=auth(mallory),
            )
            answers[label] = (r.status_code, sorted(r.json()))
        assert answers["known"] == answers["fresh"] == (201, ["digest", "size"])
        assert stored.stamp() != before  # the known bytes were written again, not skipped
        assert stored.read() == secret
        # and the private repo is still invisible to mallory
        assert client.get("/api/v1/repos/alice/private", headers=auth(mallory)).status_code == 404
        assert upload(client, mallory, b"x") == "sha256:" + hashlib.sha256(b"x").hexdigest()

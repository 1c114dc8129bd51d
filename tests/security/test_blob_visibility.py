"""``HEAD /api/v1/blobs/{digest}`` answers only for blobs the caller can read or uploaded, and a
publish may reuse a stored digest only with the same proof; the owner's push still skips
what the server has."""

from __future__ import annotations

import warnings

import httpx

from hub_client import HubClient
from tests.security.accountability_support import auth, create_repo, digest_of, hub_on, one_line, publish, upload  # noqa: F401

SHARED_HUB = True  # one hub per database kind: the tests use distinct names and bytes


def test_private_blob_is_invisible_and_unusable_without_the_bytes(hub_on):
    hub = hub_on()
    bob, eve = hub.token("bob", "write"), hub.token("eve", "write")
    secret = b"private weights of bob"
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, bob, "bob", "secret", private=True)
        assert publish(client, bob, "bob/secret", "1.0.0", {"w.txt": secret}).status_code == 201
        assert client.head(f"/api/v1/blobs/{digest_of(secret)}", headers=auth(bob)).status_code == 200
        assert client.head(f"/api/v1/blobs/{digest_of(secret)}", headers=auth(eve)).status_code == 404

        create_repo(client, eve, "eve", "copy")
        r = publish(client, eve, "eve/copy", "1.0.0", {"w.txt": secret}, upload_blobs=False)
        assert r.status_code == 400 and r.json()["error"]["code"] == "missing_blobs"
        assert one_line(r).startswith("upload these blobs first")
        assert client.get("/api/v1/repos/eve/copy/versions", headers=auth(eve)).json()["items"] == []
        assert client.get(f"/api/v1/repos/eve/copy/blobs/{digest_of(secret)}").status_code == 404

        upload(client, eve, secret)  # proof: eve has the bytes herself
        assert client.head(f"/api/v1/blobs/{digest_of(secret)}", headers=auth(eve)).status_code == 200
        assert publish(client, eve, "eve/copy", "1.0.0", {"w.txt": secret}, upload_blobs=False).status_code == 201


def test_blobs_of_public_versions_are_reusable_by_anyone(hub_on):
    hub = hub_on()
    bob, eve = hub.token("bob", "write"), hub.token("eve", "write")
    shared = b"public base tokenizer"
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, bob, "bob", "open")
        assert publish(client, bob, "bob/open", "1.0.0", {"t.json": shared}).status_code == 201
        assert client.head(f"/api/v1/blobs/{digest_of(shared)}", headers=auth(eve)).status_code == 200
        create_repo(client, eve, "eve", "derived")
        assert publish(client, eve, "eve/derived", "1.0.0", {"t.json": shared}, upload_blobs=False).status_code == 201
        # an upload that was never published stays the uploader's secret
        draft = b"bob's unpublished draft"
        upload(client, bob, draft)
        assert client.head(f"/api/v1/blobs/{digest_of(draft)}", headers=auth(bob)).status_code == 200
        assert client.head(f"/api/v1/blobs/{digest_of(draft)}", headers=auth(eve)).status_code == 404


def test_owner_push_still_skips_blobs_the_server_has(hub_on, tmp_path):
    hub = hub_on()
    token = hub.token("alice", "write")
    src = tmp_path / "adapter"
    src.mkdir()
    (src / "weights.txt").write_bytes(b"w" * 5000)
    (src / "notes.txt").write_bytes(b"notes")
    with warnings.catch_warnings(), HubClient(hub.url, token, cache_dir=tmp_path / "cache", progress=False) as hc:
        warnings.simplefilter("ignore")
        first = hc.push(src, "alice/a", "1.0.0", private=True)
        second = hc.push(src, "alice/a", "1.0.1", private=True)
    assert (first.uploaded_blobs, first.skipped_blobs) == (2, 0)
    assert (second.uploaded_blobs, second.skipped_blobs) == (0, 2)

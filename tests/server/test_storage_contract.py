"""One contract suite for every blob backend (filesystem, S3 via a moto_server process for
quick runs, and a real SeaweedFS S3 server): verified puts, ranges, existence, deletion,
iteration, upload-session parts, cleanup of abandoned writes and direct download URLs."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from hub_server.errors import DigestMismatch, Invalid, RangeNotSatisfiable, TooLarge
from hub_server.storage import BlobNotFound, open_store
from hub_server.storage.base import check_digest
from tests.support.hub_http import digest_of


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("moto_server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(params=["fs", "s3-moto", "s3-seaweedfs"])
def store(request, tmp_path, monkeypatch):
    if request.param == "fs":
        return open_store(None, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    if request.param == "s3-seaweedfs":
        from tests.support.s3_server import CREDENTIALS

        for key, value in CREDENTIALS.items():
            monkeypatch.setenv(key, value)
        s3 = request.getfixturevalue("s3_server")
        return open_store(s3.storage_url(f"contract-{uuid.uuid4().hex[:8]}"), tmp_path)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"hub-{uuid.uuid4().hex[:8]}"
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return open_store(f"s3://{bucket}/blobs?endpoint={endpoint}", tmp_path)


DATA = bytes(range(256)) * 5000  # 1.28 MB: several read chunks


def test_put_verifies_and_reads_back(store):
    digest, size = store.put(io.BytesIO(DATA), digest_of(DATA))
    assert (digest, size) == (digest_of(DATA), len(DATA))
    assert store.exists(digest) and store.size(digest) == len(DATA)
    assert b"".join(store.open(digest)) == DATA
    assert b"".join(store.open(digest, 100, 199)) == DATA[100:200]
    assert b"".join(store.open(digest, len(DATA) - 3)) == DATA[-3:]


def test_wrong_digest_stores_nothing(store):
    wrong = digest_of(b"something else")
    with pytest.raises(DigestMismatch):
        store.put(io.BytesIO(DATA), wrong)
    assert not store.exists(wrong) and not store.exists(digest_of(DATA))
    assert list(store.iterate()) == []


def test_ranges_outside_the_blob_are_refused(store):
    digest, _ = store.put(io.BytesIO(b"0123456789"))
    with pytest.raises(RangeNotSatisfiable):
        store.open(digest, 10)
    assert b"".join(store.open(digest, 5, 10_000)) == b"56789"


def test_missing_blob_and_delete(store):
    absent = digest_of(b"absent")
    assert not store.exists(absent)
    with pytest.raises(BlobNotFound):
        store.size(absent)
    with pytest.raises(BlobNotFound):
        store.open(absent)
    digest, _ = store.put(io.BytesIO(b"bye"))
    store.delete(digest)
    assert not store.exists(digest)


def test_iterate_lists_every_blob_and_empty_blobs_work(store, tmp_path):
    digests = {store.put(io.BytesIO(bytes([i]) * i))[0] for i in range(4)}
    assert set(store.iterate()) == digests
    assert b"".join(store.open(digest_of(b""))) == b""
    staged = tmp_path / "staged"
    staged.write_bytes(b"from a file")
    assert store.put_file(staged, digest_of(b"from a file")) == len(b"from a file")
    assert b"".join(store.open(digest_of(b"from a file"))) == b"from a file"


def test_parts_compose_into_one_verified_blob(store):
    pieces = [DATA[:7], DATA[7:300_000], b"", DATA[300_000:]]
    names = [f"{i:04d}-p" for i in range(len(pieces))]
    for name, piece in zip(names, pieces, strict=False):
        assert store.put_part("s1", name, io.BytesIO(piece), limit=len(DATA)) == len(piece)
    assert b"".join(store.open_part("s1", names[1])) == pieces[1]
    assert dict(store.staged_sessions()).keys() == {"s1"}
    assert store.commit_parts("s1", names, digest_of(DATA)) == (digest_of(DATA), len(DATA))
    assert b"".join(store.open(digest_of(DATA))) == DATA
    assert store.commit_parts("s1", names, digest_of(DATA)) == (digest_of(DATA), len(DATA))  # already stored
    store.delete_parts("s1", names[:1])
    with pytest.raises(BlobNotFound):
        store.open_part("s1", names[0])
    assert b"".join(store.open_part("s1", names[1])) == pieces[1]
    store.delete_parts("s1")
    assert list(store.staged_sessions()) == []
    with pytest.raises(BlobNotFound):
        store.open_part("s1", names[0])


def test_parts_with_a_wrong_digest_store_nothing(store):
    store.put_part("s2", "a", io.BytesIO(b"real bytes"), limit=100)
    claimed = digest_of(b"other bytes")
    with pytest.raises(DigestMismatch):
        store.commit_parts("s2", ["a"], claimed)
    store.put(io.BytesIO(b"other bytes"))
    with pytest.raises(DigestMismatch):  # an existing blob is no shortcut: the parts are still hashed
        store.commit_parts("s2", ["a"], claimed)
    assert set(store.iterate()) == {claimed}


def test_a_part_over_the_limit_keeps_nothing(store):
    with pytest.raises(TooLarge):
        store.put_part("s3", "big", io.BytesIO(b"x" * 101), limit=100)
    with pytest.raises(BlobNotFound):
        store.open_part("s3", "big")
    with pytest.raises(Invalid):
        store.put_part("../escape", "a", io.BytesIO(b""), limit=1)


def test_abandoned_writes_are_aborted_by_age(store, request):
    """A host killed in the middle of a put leaves a temporary write (file, S3 multipart upload)."""
    _dangle(store)
    assert _dangling(store) == 1
    if request.node.callspec.params["store"] != "s3-moto":  # moto reports a fixed 2010 'Initiated' date
        assert store.abort_stale(time.time() - 3600) == 0
    assert store.abort_stale(time.time() + 5) >= 1
    assert _dangling(store) == 0


def test_download_url_serves_the_blob_with_ranges(store):
    digest, _ = store.put(io.BytesIO(DATA))
    url = store.download_url(digest, 60, "weights.safetensors")
    if url is None:
        assert store.__class__.__name__ == "FsBlobStore"  # no direct URL: the hub streams the bytes
        return
    assert httpx.get(url, timeout=30).content == DATA
    part = httpx.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == DATA[10:20]
    assert httpx.get(url.replace(digest.split(":")[1][:8], "00000000"), timeout=30).status_code in (403, 404)


def test_upload_part_url_takes_a_part_the_hub_then_verifies(store):
    url = store.upload_part_url("s9", "lfs", 60)
    if url is None:
        assert store.__class__.__name__ == "FsBlobStore"  # no direct URL: the hub receives the bytes
        return
    assert httpx.put(url, content=DATA, timeout=30).status_code == 200
    with pytest.raises(DigestMismatch):
        store.commit_parts("s9", ["lfs"], digest_of(b"other bytes"))
    assert store.commit_parts("s9", ["lfs"], digest_of(DATA)) == (digest_of(DATA), len(DATA))
    store.delete_parts("s9")
    assert list(store.staged_sessions()) == []


def _dangle(store) -> None:
    if hasattr(store, "client"):
        store.client.create_multipart_upload(Bucket=store.bucket, Key=store._join("tmp", "dangling"))
    else:
        store.tmp.mkdir(parents=True, exist_ok=True)
        (store.tmp / "put-dangling").write_bytes(b"half")


def _dangling(store) -> int:
    if hasattr(store, "client"):
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix + "/")
        return len(uploads.get("Uploads", []))
    return len(list(store.tmp.glob("put-*")))


def test_digest_syntax_is_checked():
    assert check_digest("sha256:" + "a" * 64)
    for bad in ("sha256:" + "A" * 64, "md5:abc", "sha256:../../etc/passwd", ""):
        with pytest.raises(Invalid):
            check_digest(bad)


def test_full_server_on_s3(s3_endpoint, tmp_path):
    """The whole upload → publish → ranged download path with the S3 backend configured by URL."""
    import boto3

    from tests.support.hub_http import auth, create_repo, publish
    from tests.support.hub_process import HubProcess

    bucket = f"hub-{uuid.uuid4().hex[:8]}"
    creds = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    ).create_bucket(Bucket=bucket)
    hub = HubProcess(tmp_path / "data", storage_url=f"s3://{bucket}/hub?endpoint={s3_endpoint}", env=creds).start()
    try:
        token = hub.token("s3user")
        with httpx.Client(base_url=hub.url, timeout=30) as client:
            name = create_repo(client, token, "s3user")
            assert publish(client, token, f"s3user/{name}", "1.0.0", {"d.txt": DATA}).status_code == 201
            part = client.get(f"/api/v1/repos/s3user/{name}/files/main/d.txt", headers={"Range": "bytes=5-9"})
            assert part.status_code == 206 and part.content == DATA[5:10]
            assert client.head(f"/api/v1/blobs/{digest_of(DATA)}", headers=auth(token)).status_code == 200
        assert not (tmp_path / "data" / "blobs").exists()
    finally:
        hub.close()

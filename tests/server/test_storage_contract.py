"""One contract suite for every blob backend (filesystem and S3 via a real moto_server
process): verified puts, ranges, existence, deletion, iteration."""

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

from hub_server.errors import DigestMismatch, RangeNotSatisfiable
from hub_server.storage import BlobNotFound, open_store
from hub_server.storage.base import check_digest
from hub_http import digest_of


@pytest.fixture(scope="module")
def s3_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


@pytest.fixture(params=["fs", "s3"])
def store(request, tmp_path, monkeypatch):
    if request.param == "fs":
        return open_store(None, tmp_path)
    endpoint = request.getfixturevalue("s3_endpoint")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
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


def test_digest_syntax_is_checked():
    assert check_digest("sha256:" + "a" * 64)
    for bad in ("sha256:" + "A" * 64, "md5:abc", "sha256:../../etc/passwd", ""):
        with pytest.raises(Exception):
            check_digest(bad)


def test_full_server_on_s3(s3_endpoint, tmp_path):
    """The whole upload → publish → ranged download path with the S3 backend configured by URL."""
    import boto3
    from hub_http import auth, create_repo, publish
    from hub_process import HubProcess

    bucket = f"hub-{uuid.uuid4().hex[:8]}"
    creds = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
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

"""HUB_STORAGE_REDIRECT=1 on a real S3 server (SeaweedFS): downloads answer 302 to a
short-lived presigned URL, for the native API and for the HF API (huggingface_hub follows
it and reads the metadata from the first answer); Range is served by storage; private files
only reach callers who may read them; the URL lifetime is a setting."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from pathlib import Path

import httpx
import pytest

from hub_client import HubClient
from tests.support.hub_http import auth, create_repo, publish, safetensors_bytes
from tests.support.hub_process import HubProcess
from tests.support.s3_server import CREDENTIALS

DATA = os.urandom(200_000)


@pytest.fixture(scope="module")
def redirecting_hub(s3_server, tmp_path_factory):
    env = {**CREDENTIALS, "HUB_STORAGE_REDIRECT": "1", "HUB_STORAGE_REDIRECT_SECONDS": "2"}
    hub = HubProcess(
        tmp_path_factory.mktemp("redirect"),
        storage_url=s3_server.storage_url(f"redirect-{uuid.uuid4().hex[:8]}"),
        env=env,
    ).start()
    yield hub
    hub.close()


@pytest.fixture(scope="module")
def published(redirecting_hub):
    token = redirecting_hub.token("owner")
    with httpx.Client(base_url=redirecting_hub.url, timeout=30) as client:
        public = create_repo(client, token, "owner")
        secret = create_repo(client, token, "owner", private=True)
        files = {"weights.raw": DATA, "model.safetensors": safetensors_bytes()}
        for repo in (public, secret):
            assert publish(client, token, f"owner/{repo}", "1.0.0", files).status_code == 201
    return token, public, secret


def test_native_download_redirects_to_storage_and_ranges_work_there(redirecting_hub, published):
    _, public, _ = published
    path = f"{redirecting_hub.url}/api/v1/repos/owner/{public}/files/main/weights.raw"
    first = httpx.get(path)
    assert first.status_code == 302 and first.headers["X-Hub-Commit"] and first.content == b""
    location = first.headers["location"]
    assert location.startswith("http://127.0.0.1:") and not location.startswith(redirecting_hub.url)
    assert httpx.get(path, follow_redirects=True).content == DATA
    part = httpx.get(path, headers={"Range": "bytes=1000-1999"}, follow_redirects=True)
    assert part.status_code == 206 and part.content == DATA[1000:2000]
    head = httpx.head(path)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(DATA))
    with HubClient(
        redirecting_hub.url, None, cache_dir=redirecting_hub.data_dir.parent / "c1", progress=False
    ) as reader:
        assert (reader.pull(f"owner/{public}", "1.0.0") / "weights.raw").read_bytes() == DATA


def test_private_files_redirect_only_for_readers(redirecting_hub, published):
    token, _, secret = published
    path = f"{redirecting_hub.url}/api/v1/repos/owner/{secret}/files/main/weights.raw"
    outsider = httpx.get(path, headers=auth(redirecting_hub.token("stranger", "read")))
    assert outsider.status_code == 404 and "location" not in outsider.headers
    assert httpx.get(path).status_code == 404
    hf = httpx.get(f"{redirecting_hub.url}/owner/{secret}/resolve/main/weights.raw")
    assert hf.status_code in (401, 404) and "location" not in hf.headers
    assert httpx.get(path, headers=auth(token), follow_redirects=True).content == DATA


def test_presigned_urls_expire_after_the_configured_lifetime(redirecting_hub, published):
    _, public, _ = published
    location = httpx.get(f"{redirecting_hub.url}/api/v1/repos/owner/{public}/files/main/weights.raw").headers[
        "location"
    ]
    assert httpx.get(location).status_code == 200
    time.sleep(3.5)  # HUB_STORAGE_REDIRECT_SECONDS=2
    assert httpx.get(location).status_code == 403


def test_hf_resolve_redirects_with_metadata_and_huggingface_hub_follows(redirecting_hub, published, tmp_path):
    from huggingface_hub import hf_hub_download, snapshot_download

    _, public, _ = published
    head = httpx.head(f"{redirecting_hub.url}/owner/{public}/resolve/main/weights.raw")
    assert head.status_code == 302 and head.headers["location"]
    assert head.headers["X-Linked-Size"] == str(len(DATA)) and head.headers["X-Repo-Commit"]
    git_sha1 = hashlib.sha1(b"blob %d\0" % len(DATA) + DATA, usedforsecurity=False).hexdigest()
    assert head.headers["etag"] == f'"{git_sha1}"' and "X-Linked-Etag" not in head.headers  # a plain git file
    got = hf_hub_download(f"owner/{public}", "weights.raw", endpoint=redirecting_hub.url, cache_dir=tmp_path / "hf")
    assert Path(got).read_bytes() == DATA
    folder = snapshot_download(f"owner/{public}", endpoint=redirecting_hub.url, cache_dir=tmp_path / "hf2")
    assert Path(folder, "weights.raw").read_bytes() == DATA
    assert Path(folder, "model.safetensors").read_bytes() == safetensors_bytes()

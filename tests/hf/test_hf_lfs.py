"""Large files through the git-LFS batch API with the unmodified ``huggingface_hub``
(``HF_HUB_DISABLE_XET=1``): on a hub whose LFS threshold (4 KiB) and inline commit cap (64 KiB) are
small, ``upload_folder`` of a 320 KB file can only succeed through LFS; the bytes come back
identical. Hostile: bytes that do not match the oid, an ``lfsFile`` naming a blob the caller never
uploaded, a stranger's batch, a bad JSONL line sent through LFS to a dataset: each refused with one
line and nothing published."""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import pytest

from tests.hf.hf_harness import client, make_runner, safetensors_bytes
from tests.support.hub_process import HubProcess
from tests.support.s3_server import CREDENTIALS

DISABLE_XET = "import os\nos.environ['HF_HUB_DISABLE_XET'] = '1'\n"
CHUNK = 256 * 1024
MULTIPART = {"HUB_HF_LFS_MULTIPART_BYTES": str(1024 * 1024), "HUB_HF_LFS_CHUNK_BYTES": str(CHUNK)}


@pytest.fixture(scope="module")
def lfs_hub(tmp_path_factory):
    hub = HubProcess(
        tmp_path_factory.mktemp("lfs-hub"),
        env={"HUB_HF_LFS_THRESHOLD_BYTES": "4096", "HUB_HF_MAX_COMMIT_BYTES": str(64 * 1024), **MULTIPART},
    ).start()
    yield hub
    hub.close()


@pytest.fixture
def run_hf(lfs_hub, tmp_path):
    return make_runner(lfs_hub.url, tmp_path)


def test_upload_folder_sends_a_large_file_through_lfs(lfs_hub, run_hf, tmp_path):
    token = lfs_hub.token("lena")
    weights = safetensors_bytes(80_000)  # 320 KB: five times the inline commit cap
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(weights)
    (folder / "notes.txt").write_text("small, inline\n")
    out = run_hf(
        DISABLE_XET
        + f"""
from huggingface_hub import HfApi, hf_hub_download
api = HfApi()
api.create_repo("lena/big")
info = api.upload_folder(folder_path={str(folder)!r}, repo_id="lena/big")
path = hf_hub_download("lena/big", "adapter_model.safetensors")
local = open({str(folder / "adapter_model.safetensors")!r}, "rb").read()
print(json.dumps({{"oid": info.oid, "same": open(path, "rb").read() == local}}))
""",
        token=token,
    )
    assert out["same"] is True
    files = {f["path"]: f for f in client(lfs_hub, token).resolve("lena/big", "main")["files"]}
    assert files["adapter_model.safetensors"]["digest"] == "sha256:" + hashlib.sha256(weights).hexdigest()
    auth = {"Authorization": f"Bearer {token}"}
    modes = httpx.post(
        f"{lfs_hub.url}/api/models/lena/big/preupload/main",
        headers=auth,
        json={
            "files": [
                {"path": "a.safetensors", "size": 5000, "sample": ""},
                {"path": "b.txt", "size": 10, "sample": ""},
            ]
        },
    ).json()
    assert [f["uploadMode"] for f in modes["files"]] == ["lfs", "regular"]
    again = httpx.post(
        f"{lfs_hub.url}/lena/big.git/info/lfs/objects/batch",
        headers=auth,
        json={
            "operation": "upload",
            "transfers": ["basic"],
            "objects": [{"oid": hashlib.sha256(weights).hexdigest(), "size": len(weights)}],
        },
    ).json()
    assert "actions" not in again["objects"][0]  # already held: nothing to send


def _batch(hub, token: str, repo: str, data: bytes) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{hub.url}/{repo}.git/info/lfs/objects/batch",
        headers=auth,
        json={
            "operation": "upload",
            "transfers": ["basic", "multipart"],
            "hash_algo": "sha256",
            "objects": [{"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}],
        },
    )


def _commit(
    hub, token: str, repo: str, path: str, data: bytes, prefix: str = "models", revision: str = "main"
) -> httpx.Response:
    lines = [
        {"key": "header", "value": {"summary": "add"}},
        {
            "key": "lfsFile",
            "value": {"path": path, "algo": "sha256", "oid": hashlib.sha256(data).hexdigest(), "size": len(data)},
        },
    ]
    return httpx.post(
        f"{hub.url}/api/{prefix}/{repo}/commit/{revision}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        content="\n".join(json.dumps(line) for line in lines),
    )


def test_bytes_that_do_not_match_the_oid_are_refused_and_not_stored(lfs_hub):
    token = lfs_hub.token("lena")
    client(lfs_hub, token).create_repo("lena/wrong")
    claimed = b"x" * 5000
    answer = _batch(lfs_hub, token, "lena/wrong", claimed)
    assert answer.status_code == 200
    href = answer.json()["objects"][0]["actions"]["upload"]["href"]
    put = httpx.put(href, content=b"y" * 5000)
    assert put.status_code == 400
    assert "hash" in put.json()["error"] and "\n" not in put.json()["error"]
    assert httpx.put(href, content=claimed).status_code == 404  # the session is gone with its parts
    refused = _commit(lfs_hub, token, "lena/wrong", "w.txt", claimed)
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("upload these blobs first: sha256:")
    assert client(lfs_hub, token).versions("lena/wrong") == []


def test_a_stranger_gets_no_upload_hrefs(lfs_hub):
    owner, stranger = lfs_hub.token("lena"), lfs_hub.token("mallory")
    client(lfs_hub, owner).create_repo("lena/mine")
    answer = _batch(lfs_hub, stranger, "lena/mine", b"z" * 5000)
    assert answer.status_code == 403
    assert _batch(lfs_hub, "", "lena/mine", b"z" * 5000).status_code == 401


def test_a_bad_jsonl_line_sent_through_lfs_is_refused_at_commit(lfs_hub):
    token = lfs_hub.token("lena")
    data = b"".join(json.dumps({"i": i}).encode() + b"\n" for i in range(600)) + b"{oops\n"
    created = httpx.post(
        f"{lfs_hub.url}/api/repos/create",
        headers={"Authorization": f"Bearer {token}"},
        json={"name": "rows", "type": "dataset"},
    )
    assert created.status_code == 200, created.text
    answer = _batch(lfs_hub, token, "datasets/lena/rows", data)
    href = answer.json()["objects"][0]["actions"]["upload"]["href"]
    assert httpx.put(href, content=data).status_code == 200
    refused = _commit(lfs_hub, token, "lena/rows", "train.jsonl", data, prefix="datasets")
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("train.jsonl line 601: not valid JSON (")
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{lfs_hub.url}/api/datasets/lena/rows/branch/dev", headers=auth).status_code == 200
    on_branch = _commit(lfs_hub, token, "lena/rows", "train.jsonl", data, prefix="datasets", revision="dev")
    assert on_branch.status_code == 400  # a branch commit passes the dataset rules too, LFS files included
    assert on_branch.json()["error"].startswith("train.jsonl line 601: not valid JSON (")
    good = data[: data.rindex(b"{oops")]
    answer = _batch(lfs_hub, token, "datasets/lena/rows", good)
    assert httpx.put(answer.json()["objects"][0]["actions"]["upload"]["href"], content=good).status_code == 200
    assert (
        _commit(lfs_hub, token, "lena/rows", "train.jsonl", good, prefix="datasets", revision="dev").status_code == 200
    )
    tree = httpx.get(f"{lfs_hub.url}/api/datasets/lena/rows/tree/dev", headers=auth).json()
    assert {e["path"]: e.get("lfs", {}).get("oid") for e in tree}["train.jsonl"] == hashlib.sha256(good).hexdigest()
    assert [v["version"] for v in client(lfs_hub, token).versions("lena/rows")] == ["0.0.0"]  # the initial commit only


@pytest.fixture(scope="module")
def s3_lfs_hub(s3_server, tmp_path_factory):
    env = {
        **CREDENTIALS,
        "HUB_STORAGE_REDIRECT": "1",
        "HUB_HF_LFS_THRESHOLD_BYTES": "4096",
        "HUB_HF_MAX_COMMIT_BYTES": str(64 * 1024),
        **MULTIPART,
    }
    hub = HubProcess(
        tmp_path_factory.mktemp("lfs-s3"), env=env, storage_url=s3_server.storage_url(f"lfs-{uuid.uuid4().hex[:8]}")
    ).start()
    yield hub
    hub.close()


def test_with_storage_redirects_the_bytes_go_straight_to_s3(s3_lfs_hub, s3_server, tmp_path):
    token = s3_lfs_hub.token("lena")
    weights = safetensors_bytes(50_000)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(weights)
    out = make_runner(s3_lfs_hub.url, tmp_path)(
        DISABLE_XET
        + f"""
from huggingface_hub import HfApi, hf_hub_download
HfApi().create_repo("lena/s3")
HfApi().upload_folder(folder_path={str(folder)!r}, repo_id="lena/s3")
path = hf_hub_download("lena/s3", "adapter_model.safetensors")
print(json.dumps({{"same": open(path, "rb").read() == open({str(folder / "adapter_model.safetensors")!r}, "rb").read()}}))
""",
        token=token,
    )
    assert out["same"] is True
    claimed = b"q" * 5000
    objects = _batch(s3_lfs_hub, token, "lena/s3", claimed).json()["objects"][0]
    href, verify = objects["actions"]["upload"]["href"], objects["actions"]["verify"]["href"]
    assert href.startswith(s3_server.endpoint + "/")  # presigned: the hub does not carry the bytes
    assert httpx.put(href, content=b"r" * 5000).status_code == 200
    checked = httpx.post(
        verify,
        headers={"Authorization": f"Bearer {token}"},
        json={"oid": hashlib.sha256(claimed).hexdigest(), "size": len(claimed)},
    )
    assert checked.status_code == 400 and "hash" in checked.json()["error"]
    assert _commit(s3_lfs_hub, token, "lena/s3", "q.txt", claimed).status_code == 400  # never recorded


def test_a_batch_over_the_open_upload_limit_opens_no_session(lfs_hub):
    token = lfs_hub.token("olga")
    client(lfs_hub, token).create_repo("olga/many")
    objects = [{"oid": hashlib.sha256(str(i).encode()).hexdigest(), "size": 5000} for i in range(33)]
    answer = httpx.post(
        f"{lfs_hub.url}/olga/many.git/info/lfs/objects/batch",
        headers={"Authorization": f"Bearer {token}"},
        json={"operation": "upload", "transfers": ["basic"], "objects": objects},
    )
    assert answer.status_code == 429
    assert answer.json()["error"] == (
        "33 files to upload need as many upload sessions; 0 are open and the limit is "
        "32 (HUB_MAX_OPEN_UPLOADS): upload fewer large files per commit"
    )
    assert _batch(lfs_hub, token, "olga/many", b"k" * 5000).status_code == 200  # nothing was left open


MULTIPART_UPLOAD = (
    DISABLE_XET
    + """
from unittest import mock
from huggingface_hub import HfApi, hf_hub_download, lfs
sent = []
real_put = lfs.http_backoff
def spy(method, url, **kw):
    sent.append([method, url.split("?")[0]])
    return real_put(method, url, **kw)
api = HfApi()
api.create_repo("{repo}")
with mock.patch.object(lfs, "http_backoff", spy):
    api.upload_file(path_or_fileobj={path!r}, path_in_repo="big.safetensors", repo_id="{repo}")
got = hf_hub_download("{repo}", "big.safetensors")
print(json.dumps({{"same": open(got, "rb").read() == open({path!r}, "rb").read(), "sent": sent}}))
"""
)


def _multipart_upload(hub, tmp_path, repo: str) -> tuple[dict, bytes]:
    data = safetensors_bytes(1024 * 1024 // 4 + 25)  # just over the 1 MiB multipart threshold: five parts
    path = tmp_path / "big.safetensors"
    path.write_bytes(data)
    token = hub.token(repo.split("/")[0])
    out = make_runner(hub.url, tmp_path)(MULTIPART_UPLOAD.format(repo=repo, path=str(path)), token=token)
    return out, data


def test_a_file_over_the_multipart_threshold_goes_up_in_parts(lfs_hub, tmp_path):
    out, data = _multipart_upload(lfs_hub, tmp_path, "mona/parts")
    assert out["same"] is True
    puts = [url for method, url in out["sent"] if method == "PUT"]
    assert len(data) > 1024 * 1024 and len(puts) == -(-len(data) // CHUNK) == 5
    assert all(url.startswith(f"{lfs_hub.url}/lfs/uploads/") and "/parts/" in url for url in puts)
    assert [method for method, _ in out["sent"]] == ["POST"] + ["PUT"] * 5 + ["POST", "POST"]  # batch ... verify
    files = {f["path"]: f for f in client(lfs_hub, lfs_hub.token("mona")).resolve("mona/parts", "main")["files"]}
    assert files["big.safetensors"]["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()


def _multipart_actions(hub, token: str, repo: str, data: bytes) -> dict:
    client(hub, token).create_repo(repo)
    return _batch(hub, token, repo, data).json()["objects"][0]["actions"]


def test_multipart_parts_that_do_not_hash_to_the_oid_store_nothing(lfs_hub):
    token = lfs_hub.token("mona")
    claimed = b"c" * (1024 * 1024 + 10)
    actions = _multipart_actions(lfs_hub, token, "mona/forged", claimed)
    header = actions["upload"]["header"]
    assert header["chunk_size"] == str(CHUNK) and sorted(k for k in header if k.isdigit()) == [
        "00001",
        "00002",
        "00003",
        "00004",
        "00005",
    ]
    part_zero = httpx.put(header["00001"].replace("/parts/1", "/parts/0"), content=b"d")
    assert part_zero.status_code == 400 and part_zero.json()["error"] == "part number 0 is outside 1 to 100000"
    skipped = httpx.put(header["00002"], content=b"d" * CHUNK)
    assert skipped.status_code == 416  # part 1 has not arrived: nothing stored out of order
    etags = []
    for number in range(1, 6):
        part = b"d" * (CHUNK if number < 5 else len(claimed) - 4 * CHUNK)
        answer = httpx.put(header[f"{number:05d}"], content=part)
        assert answer.status_code == 200 and answer.headers["etag"]
        etags.append({"partNumber": number, "etag": answer.headers["etag"]})
    oid = hashlib.sha256(claimed).hexdigest()
    bad_order = httpx.post(actions["upload"]["href"], json={"oid": oid, "parts": etags[::-1]})
    assert bad_order.status_code == 400 and "numbered from 1 in order" in bad_order.json()["error"]
    done = httpx.post(actions["upload"]["href"], json={"oid": oid, "parts": etags})
    assert done.status_code == 400 and "hash" in done.json()["error"]
    again = httpx.post(actions["upload"]["href"], json={"oid": oid, "parts": etags})
    assert again.status_code == 404  # the session is gone with its parts
    assert _commit(lfs_hub, token, "mona/forged", "c.bin", claimed).status_code == 400  # never recorded


def test_with_storage_redirects_parts_go_straight_to_s3(s3_lfs_hub, s3_server, tmp_path):
    out, _ = _multipart_upload(s3_lfs_hub, tmp_path, "mona/s3parts")
    assert out["same"] is True
    puts = [url for method, url in out["sent"] if method == "PUT"]
    assert len(puts) == 5 and all(url.startswith(s3_server.endpoint + "/") for url in puts)


def test_completing_a_multipart_upload_without_parts_is_404(lfs_hub):
    token = lfs_hub.token("mona")
    claimed = b"e" * (1024 * 1024 + 10)
    actions = _multipart_actions(lfs_hub, token, "mona/noparts", claimed)
    parts = [{"partNumber": n, "etag": "x"} for n in range(1, 6)]
    done = httpx.post(actions["upload"]["href"], json={"oid": hashlib.sha256(claimed).hexdigest(), "parts": parts})
    assert done.status_code == 404 and done.json()["error"].endswith("has no bytes")
    assert _commit(lfs_hub, token, "mona/noparts", "e.bin", claimed).status_code == 400

"""``upload_folder`` of a base-model-sized safetensors file with the unmodified ``huggingface_hub``
on a hub with its default limits: the file is larger than the inline commit cap (64 MiB), so it
can only arrive outside the commit. With ``HF_HUB_DISABLE_XET=1`` it goes through the git-LFS batch
API; with ``hf_xet`` active (the library's default when installed) through the hub's Xet CAS, where
its repeating pattern makes hf_xet send a few chunks and many references to them. Either way the
bytes come back identical (sha256).

The size is ``HUB_TEST_LFS_UPLOAD_BYTES`` (default 66 MiB, just over the inline cap: what CI runs); ``make test-hf-large``
runs it at 538 MB, SmolLM2-360M's ``model.safetensors``."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from tests.hf.hf_harness import client
from tests.hf.xet_wire import Recorded

SIZE = int(os.environ.get("HUB_TEST_LFS_UPLOAD_BYTES", str(66 * 1024 * 1024)))  # just over the 64 MiB inline cap
CHUNK = 4 * 1024 * 1024


def _write_safetensors(path, size: int) -> str:
    """A valid one-tensor F32 safetensors file of about ``size`` bytes, streamed; returns its sha256."""
    values = max(1, (size - 128) // 4)
    header = json.dumps({"w": {"dtype": "F32", "shape": [values], "data_offsets": [0, 4 * values]}}).encode()
    header += b" " * (-len(header) % 8)
    digest = hashlib.sha256()
    block = hashlib.sha256(b"weights").digest() * (CHUNK // 32)  # not all zeros: a real byte pattern
    with open(path, "wb") as out:
        for part in (len(header).to_bytes(8, "little"), header):
            out.write(part)
            digest.update(part)
        left = 4 * values
        while left:
            part = block[: min(left, CHUNK)]
            out.write(part)
            digest.update(part)
            left -= len(part)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("base")
    sha = _write_safetensors(folder / "model.safetensors", SIZE)
    (folder / "config.json").write_text('{"model_type": "llama"}\n')
    return folder, sha


def test_upload_folder_of_a_large_safetensors_goes_through_lfs(hub, run_hf, big_folder, tmp_path):
    folder, sha = big_folder
    token = hub.token("basil")
    out = run_hf(
        f"""
        import hashlib, os
        os.environ["HF_HUB_DISABLE_XET"] = "1"
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("basil/base")
        info = api.upload_folder(folder_path={str(folder)!r}, repo_id="basil/base")
        entry = api.get_paths_info("basil/base", ["model.safetensors"])[0]
        path = hf_hub_download("basil/base", "model.safetensors", cache_dir={str(tmp_path / "cache")!r})
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        print(json.dumps({{"oid": info.oid, "lfs": entry.lfs.sha256, "sha": digest.hexdigest()}}))
    """,
        token=token,
    )
    assert out["lfs"] == sha and out["sha"] == sha
    files = {f["path"]: f for f in client(hub, token).resolve("basil/base", "main")["files"]}
    assert files["model.safetensors"]["digest"] == f"sha256:{sha}"
    assert files["model.safetensors"]["size"] == os.path.getsize(folder / "model.safetensors")


def test_with_xet_active_the_same_upload_goes_through_xet(hub, run_hf, big_folder, tmp_path):
    folder, sha = big_folder
    token = hub.token("basil")
    out = run_hf(
        f"""
        import hashlib
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("basil/xet")
        api.upload_folder(folder_path={str(folder)!r}, repo_id="basil/xet")
        path = hf_hub_download("basil/xet", "model.safetensors", cache_dir={str(tmp_path / "cache")!r})
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                digest.update(block)
        print(json.dumps({{"sha": digest.hexdigest()}}))
    """,
        token=token,
    )
    assert out["sha"] == sha
    files = {f["path"]: f for f in client(hub, token).resolve("basil/xet", "main")["files"]}
    assert files["model.safetensors"]["digest"] == f"sha256:{sha}"
    seen = Recorded(hub)
    try:
        assert seen.xorbs("basil")  # it went through the hub's Xet CAS, not LFS
    finally:
        seen.close()

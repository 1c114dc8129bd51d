"""The content-addressed cache: blobs stored once, snapshots as links, refs for offline use."""

import hashlib
import os

from hub_client.cache import LocalCache, copy_tree


def _blob(cache: LocalCache, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    fd, tmp = cache.temp_file()
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    cache.adopt_blob(tmp, digest)
    return digest


def test_snapshots_share_blobs(tmp_path):
    cache = LocalCache(tmp_path)
    shared = _blob(cache, b"shared weights")
    only_v2 = _blob(cache, b"new weights")
    files_v1 = [{"path": "w.safetensors", "size": 14, "digest": shared}]
    files_v2 = files_v1 + [{"path": "sub/extra.safetensors", "size": 11, "digest": only_v2}]
    s1 = cache.build_snapshot("acme", "x", "1.0.0", files_v1)
    s2 = cache.build_snapshot("acme", "x", "2.0.0", files_v2)
    assert (s1 / "w.safetensors").read_bytes() == (s2 / "w.safetensors").read_bytes() == b"shared weights"
    assert (s2 / "sub" / "extra.safetensors").read_bytes() == b"new weights"
    assert len(list((tmp_path / "blobs" / "sha256").iterdir())) == 2
    assert (s1 / "w.safetensors").stat().st_ino == cache.blob_path(shared).stat().st_ino
    assert cache.snapshot_complete("acme", "x", "2.0.0", files_v2)
    (s2 / "sub" / "extra.safetensors").unlink()
    assert not cache.snapshot_complete("acme", "x", "2.0.0", files_v2)


def test_refs_recorded_and_merged(tmp_path):
    cache = LocalCache(tmp_path)
    d = _blob(cache, b"a")
    files = [{"path": "a", "size": 1, "digest": d}]
    cache.record_version("acme", "x", {"version": "1.0.0", "commit": "c1", "files": files})
    cache.record_version(
        "acme", "x", {"version": "1.1.0", "commit": "c2", "files": files, "yanked": True, "yank_reason": "bad"}
    )
    versions = cache.read_refs("acme", "x")["versions"]
    assert set(versions) == {"1.0.0", "1.1.0"}
    assert versions["1.1.0"]["yanked"] is True and versions["1.0.0"]["yanked"] is False
    assert cache.read_refs("acme", "nothing")["versions"] == {}


def test_copy_tree_gives_writable_copies(tmp_path):
    cache = LocalCache(tmp_path / "c")
    d = _blob(cache, b"abc")
    snap = cache.build_snapshot("acme", "x", "1.0.0", [{"path": "d/a", "size": 3, "digest": d}])
    out = copy_tree(snap, tmp_path / "out")
    (out / "d" / "a").write_bytes(b"changed")
    assert cache.blob_path(d).read_bytes() == b"abc"

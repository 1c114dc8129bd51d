"""A blob the fs store reports stored is durable: the file is fsynced before the rename and the
directories that changed are fsynced after it (observed with a spy around the real os.fsync)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from hub_server.errors import DigestMismatch
from hub_server.storage.fs import FsBlobStore


@pytest.fixture
def fsynced(monkeypatch):
    """Paths whose descriptors were fsynced (the real fsync still runs)."""
    seen: list[Path] = []
    real = os.fsync

    def spy(fd: int) -> None:
        seen.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return seen


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to name file descriptors")
@pytest.mark.parametrize("way", ["put", "put_file"])
def test_file_and_directories_are_fsynced_on_commit(tmp_path, fsynced, way):
    store = FsBlobStore(tmp_path / "blobs")
    data = b"durable bytes"
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if way == "put":
        store.put(io.BytesIO(data), digest)
        staged_dir = store.tmp
    else:
        staged = tmp_path / "staging" / "data"
        staged.parent.mkdir()
        staged.write_bytes(data)
        store.put_file(staged, digest)
        staged_dir = staged.parent
    target = store._path(digest)
    assert target.read_bytes() == data
    file_syncs = [p for p in fsynced if p.name not in ("blobs", "sha256", target.parent.name, staged_dir.name)]
    assert len(file_syncs) == 1  # the staged file, before it was renamed
    for directory in (target.parent, target.parent.parent, staged_dir):  # new entries and the rename
        assert directory in fsynced, (directory, fsynced)
    assert fsynced.index(target.parent) > fsynced.index(file_syncs[0])


def test_a_refused_put_leaves_nothing(tmp_path, fsynced):
    store = FsBlobStore(tmp_path / "blobs")
    with pytest.raises(DigestMismatch, match="nothing was stored"):
        store.put(io.BytesIO(b"bytes"), "sha256:" + "0" * 64)
    assert list(store.iterate()) == [] and not any(store.tmp.iterdir())
    assert fsynced == []

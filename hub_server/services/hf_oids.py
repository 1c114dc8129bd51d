"""The git object ids the HF view shows for files, computed from the blobs we already store
(sha256 stays the content address; nothing new is stored).

Like the HF Hub, a plain git blob's ``oid`` is the git blob sha1 (``sha1(b"blob <size>\\0" +
bytes)``: what ``verify_repo_checksums`` recomputes locally); an LFS file (``hf_gitattributes``
decides which: tracked by ``.gitattributes`` or large) is named by its pointer: its ``oid`` is the
sha1 of its LFS pointer and ``lfs`` carries the sha256, so nothing big is ever read to name it. Blobs are immutable, so a sha1 once computed is
kept in a bounded in-process cache keyed by the sha256.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from ..db.models import VersionFile
from .context import Hub

_CACHE_ENTRIES = 65_536
_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def git_blob_sha1(data_chunks, size: int) -> str:
    sha = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    for chunk in data_chunks:
        sha.update(chunk)
    return sha.hexdigest()


def _blob_sha1(hub: Hub, digest: str, size: int) -> str:
    with _lock:
        if digest in _cache:
            _cache.move_to_end(digest)
            return _cache[digest]
    chunks = hub.store.open(digest, 0, size - 1) if size else iter(())
    oid = git_blob_sha1(chunks, size)
    with _lock:
        _cache[digest] = oid
        while len(_cache) > _CACHE_ENTRIES:
            _cache.popitem(last=False)
    return oid


def file_ids(hub: Hub, f: VersionFile, lfs: bool) -> dict:
    """``{"oid": ...}`` plus ``"lfs"`` for an LFS file (``hf_gitattributes.is_lfs``): the fields of
    an HF tree/paths-info entry."""
    sha256 = f.digest.split(":", 1)[1]
    if lfs:
        pointer = lfs_pointer(sha256, f.size)
        return {
            "oid": git_blob_sha1([pointer], len(pointer)),
            "lfs": {"oid": sha256, "size": f.size, "pointerSize": len(pointer)},
        }
    return {"oid": _blob_sha1(hub, f.digest, f.size)}

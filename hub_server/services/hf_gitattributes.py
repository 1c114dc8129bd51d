"""Which files of a version the HF view calls LFS files, decided as git-lfs and the HF Hub decide it:
the version's ``.gitattributes`` tracks the path with ``filter=lfs`` (the last matching line wins),
or the file is larger than ``LFS_THRESHOLD`` (the Hub refuses a plain git blob that big) or than
``hf_lfs_threshold_bytes`` (above it ``preupload`` sends files through LFS). A version
without ``.gitattributes`` (pushed natively) reads with the Hub's default one (``GITATTRIBUTES``,
what ``hf_initial`` commits).

The rule gives the ``lfs`` field of tree, paths-info and ``model_info`` entries and the resolve
headers (``X-Linked-Etag`` only for LFS files), so a file uploaded through LFS is listed as one
(``preupload`` sends small tracked files inline all the same: see ``hf_preupload``). Nothing is stored: the rule is recomputed from the immutable ``.gitattributes`` blob
(its parsed form cached by digest).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import pathspec

from ..db.models import Version
from .context import Hub

LFS_THRESHOLD = 10 * 1024 * 1024
MAX_ATTRIBUTES_BYTES = 1024 * 1024
_CACHE_ENTRIES = 1024
_cache: OrderedDict[str, Callable[[str], bool]] = OrderedDict()
_lock = threading.Lock()

GITATTRIBUTES = "".join(  # the Hub's default .gitattributes: what a repo's initial commit holds
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.lfs.*",
        "*.mlmodel",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "saved_model/**/*",
        "*.tar.*",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
    )
).encode()


def small_text(hub: Hub, version: Version | None, path: str) -> str | None:
    """The text of a small file (at most 1 MiB) of ``version``, or None."""
    f = next((f for f in version.files if f.path == path), None) if version is not None else None
    if f is None or not 0 < f.size <= MAX_ATTRIBUTES_BYTES:
        return None
    return b"".join(hub.store.open(f.digest, 0, f.size - 1)).decode("utf-8", "replace")


def lfs_tracked(text: str) -> Callable[[str], bool]:
    """Whether ``.gitattributes`` (``text``) tracks a path with git-lfs."""
    rules: list[tuple[pathspec.PathSpec, bool]] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        attrs = parts[1:]
        if "filter=lfs" in attrs:
            rules.append((pathspec.PathSpec.from_lines("gitwildmatch", [parts[0]]), True))
        elif any(a in ("-filter", "!filter") or a.startswith("filter=") for a in attrs):
            rules.append((pathspec.PathSpec.from_lines("gitwildmatch", [parts[0]]), False))

    def tracked(path: str) -> bool:
        verdict = False
        for spec, lfs in rules:
            if spec.match_file(path):
                verdict = lfs
        return verdict

    return tracked


def tracked_at(hub: Hub, version: Version | None) -> Callable[[str], bool]:
    """``lfs_tracked`` of the version's ``.gitattributes`` (the default one when it has none)."""
    f = next((f for f in version.files if f.path == ".gitattributes"), None) if version is not None else None
    key = f.digest if f is not None else "default"
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    text = (small_text(hub, version, ".gitattributes") or "") if f is not None else GITATTRIBUTES.decode()
    rule = lfs_tracked(text)
    with _lock:
        _cache[key] = rule
        while len(_cache) > _CACHE_ENTRIES:
            _cache.popitem(last=False)
    return rule


def is_lfs(hub: Hub, version: Version | None) -> Callable[[str, int], bool]:
    """``(path, size) -> bool``: whether the HF view treats that file of ``version`` as LFS."""
    tracked = tracked_at(hub, version)
    inline_cap = min(LFS_THRESHOLD, hub.settings.hf_lfs_threshold_bytes + 1)  # what preupload sends through LFS
    return lambda path, size: size >= inline_cap or (size > 0 and tracked(path))  # an empty file is never LFS

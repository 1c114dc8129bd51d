"""What ``preupload`` tells ``huggingface_hub`` about each file before a commit: the upload mode
(always "regular": bytes travel inline), ``shouldIgnore`` when the path matches the ``.gitignore``
(the one sent with the request, else the one at the revision), and ``oid``, the git oid of the file
already at that path, so the client drops an unchanged file instead of sending it again."""

from __future__ import annotations

import pathspec

from ..db.models import Version
from .context import Hub
from .hf_oids import file_ids

MAX_GITIGNORE_BYTES = 1024 * 1024


def _gitignore(hub: Hub, version: Version | None, sent: str | None) -> pathspec.PathSpec | None:
    text = sent
    if text is None and version is not None:
        f = next((f for f in version.files if f.path == ".gitignore"), None)
        if f is not None and 0 < f.size <= MAX_GITIGNORE_BYTES:
            text = b"".join(hub.store.open(f.digest, 0, f.size - 1)).decode("utf-8", "replace")
    if not text:
        return None
    return pathspec.PathSpec.from_lines("gitwildmatch", text.splitlines())


def answer(hub: Hub, version, paths: list[str], gitignore: str | None,
           sizes: dict[str, int] | None = None, lfs_above: int | None = None) -> list[dict]:
    """One ``{"path", "uploadMode", "shouldIgnore", "oid"}`` per path, in order. A file larger than
    ``lfs_above`` bytes (its size from ``sizes``) goes through the LFS batch API (``hf_lfs``)."""
    spec = _gitignore(hub, version, gitignore)
    current = {f.path: f for f in version.files} if version is not None else {}
    out = []
    for path in paths:
        existing = current.get(path)
        ids = file_ids(hub, existing) if existing is not None else {}
        # a regular upload compares the git sha1; an LFS file's oid here is its sha256 (the client's rule)
        oid = ids["lfs"]["oid"] if "lfs" in ids else ids.get("oid")
        large = lfs_above is not None and (sizes or {}).get(path, 0) > lfs_above
        out.append({"path": path, "uploadMode": "lfs" if large else "regular",
                    "shouldIgnore": bool(spec is not None and spec.match_file(path)), "oid": oid})
    return out

"""What ``preupload`` tells ``huggingface_hub`` about each file before a commit: the upload mode,
``shouldIgnore`` when the path matches the ``.gitignore`` (the one sent with the request, else the
one at the revision), and ``oid``, the id of the file already at that path in the form the client
compares for that mode (git sha1 for "regular", sha256 for "lfs"), so the client drops an unchanged
file instead of sending it again.

The mode is "lfs" only above ``hf_lfs_threshold_bytes``, not for every path ``.gitattributes``
tracks as the HF Hub does: small files stay inline in the commit, one request, whatever the
client. An "lfs" file travels through Xet when ``hf_xet`` is installed (``huggingface_hub``'s
default: ``xet_cas``) and through the git-LFS batch API otherwise (``hf_lfs``); both end as the same
sha256 blob. Listings still call tracked files LFS (``hf_gitattributes``)."""

from __future__ import annotations

import pathspec

from ..db.models import Version
from .context import Hub
from .hf_gitattributes import small_text
from .hf_oids import file_ids


def _gitignore(hub: Hub, version: Version | None, sent: str | None) -> pathspec.PathSpec | None:
    text = sent if sent is not None else small_text(hub, version, ".gitignore")
    if not text:
        return None
    return pathspec.PathSpec.from_lines("gitwildmatch", text.splitlines())


def answer(
    hub: Hub,
    version,
    paths: list[str],
    gitignore: str | None,
    sizes: dict[str, int] | None = None,
    lfs_above: int | None = None,
) -> list[dict]:
    """One ``{"path", "uploadMode", "shouldIgnore", "oid"}`` per path, in order. A file larger than
    ``lfs_above`` bytes (its size from ``sizes``) goes through the LFS batch API (``hf_lfs``)."""
    spec = _gitignore(hub, version, gitignore)
    current = {f.path: f for f in version.files} if version is not None else {}
    out = []
    for path in paths:
        large = lfs_above is not None and (sizes or {}).get(path, 0) > lfs_above
        existing = current.get(path)
        oid = None
        if existing is not None:  # what the client computes locally for the mode we answer
            oid = existing.digest.split(":", 1)[1] if large else file_ids(hub, existing, False)["oid"]
        out.append(
            {
                "path": path,
                "uploadMode": "lfs" if large else "regular",
                "shouldIgnore": bool(spec is not None and spec.match_file(path)),
                "oid": oid,
            }
        )
    return out

"""The revision of an HF file URL as the client sent it. ``huggingface_hub`` percent-encodes the
revision as one path segment (``refs%2Fpr%2F1``, ``feature%2Fx``); the router decodes it into the
path, where ``refs/pr/1/config.json`` could be split several ways. The undecoded path settles it."""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import Request


def revision_and_path(request: Request, revision: str, path: str, at: int) -> tuple[str, str]:
    """(revision, file path); ``at``: the index of the revision among the raw path's segments
    (``/ns/name/resolve/REV/...``: 4)."""
    raw = request.scope.get("raw_path")
    if raw:
        segments = raw.split(b"?", 1)[0].decode("latin-1").split("/")
        if len(segments) > at:
            return unquote(segments[at]), unquote("/".join(segments[at + 1 :]))
    if revision == "refs" and path.count("/") >= 2:  # no raw path: refs/heads/NAME with a one-segment NAME
        _, revision, path = path.split("/", 2)
    return revision, path

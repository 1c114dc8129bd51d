"""What a server answers is checked before it touches the disk: a resolve answer becomes a
snapshot path and file names only after every value passes the same rules the server applies
(``hub_rules``), and its commit id is recomputed from the manifest.

A hostile hub (or anyone on a plain-HTTP path) could otherwise answer ``version:
"../../../home/u/.ssh"`` and have the snapshot build replace that directory.
"""

from __future__ import annotations

from typing import Any

import hub_rules as rules

from .errors import BadServerAnswer
from .manifest import ManifestEntry, commit_id

MAX_FILE_BYTES = 1 << 50


def _refuse(label: str, why: str) -> BadServerAnswer:
    return BadServerAnswer(f"refused the hub's answer for {label}: {why}")


def check_digest(value: Any) -> str:
    """The shared digest rule (``hub_rules.check_digest``); ``DigestInvalid`` is a ``ValueError``."""
    return rules.check_digest(value)


def checked_detail(detail: Any, label: str, ref: str | None) -> dict[str, Any]:
    """``detail`` (a resolve answer) when it is safe to build a snapshot from; ``BadServerAnswer``
    otherwise. ``ref`` is what was asked for: an exact version or a commit must come back as such,
    a range must contain the version returned."""
    if not isinstance(detail, dict):
        raise _refuse(label, "not a JSON object")
    version, commit, files = detail.get("version"), detail.get("commit"), detail.get("files")
    try:
        version = rules.check_version(version)
    except rules.VersionInvalid as exc:
        raise _refuse(label, str(exc)) from None
    if not rules.is_commit(commit):
        raise _refuse(label, f"commit {str(commit)[:80]!r} is not a 40-hex commit id")
    if not isinstance(files, list):
        raise _refuse(label, "no file list")
    entries = []
    for item in files:
        if not isinstance(item, dict):
            raise _refuse(label, "a file entry is not an object")
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES:
            raise _refuse(label, f"file size {str(size)[:40]!r} is not a byte count")
        try:
            path = rules.check_path(item.get("path"))  # pickles are refused by their bytes (download)
            entries.append(ManifestEntry(path, size, check_digest(item.get("digest"))))
        except (rules.PathRefused, ValueError) as exc:
            raise _refuse(label, str(exc)) from None
    try:
        rules.check_manifest_paths(e.path for e in entries)
    except rules.PathRefused as exc:
        raise _refuse(label, str(exc)) from None
    if commit_id(entries) != commit:
        raise _refuse(label, f"commit {commit} does not match its files (they hash to {commit_id(entries)})")
    _check_answers_ref(label, ref, version, str(commit))
    return detail


def _check_answers_ref(label: str, ref: str | None, version: str, commit: str) -> None:
    if ref is None or ref in rules.MAIN_NAMES:
        return
    if rules.is_commit(ref):
        if commit != ref:
            raise _refuse(label, f"asked for commit {ref}, got commit {commit}")
    elif rules.is_version(ref):
        if version != ref:
            raise _refuse(label, f"asked for version {ref}, got {version}")
    elif rules.is_range(ref):
        try:
            selected = rules.matches(version, ref)
        except rules.VersionInvalid:
            return  # the server understood a range the client does not: nothing to check against
        if not selected:
            raise _refuse(label, f"version {version} is not in the range {ref}")

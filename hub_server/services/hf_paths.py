"""``paths-info`` and the expanded tree of the HF view: the entries of given paths at a revision,
with git oids (``hf_oids``) and, when asked (``expand``), the ``lastCommit`` that gave each file its
current content: the oldest version in the revision's history from which the file kept the same
digest (versions are the commits)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..db.models import Version, VersionFile
from . import hf_views


def last_commits(history: list[Version]) -> dict[str, Version]:
    """path -> the version that last changed it; ``history`` newest first (as ``versions.history``)."""
    last: dict[str, Version] = {}
    seen: dict[str, str] = {}
    for version in reversed(history):  # oldest first
        for f in version.files:
            if seen.get(f.path) != f.digest:
                seen[f.path] = f.digest
                last[f.path] = version
    return last


def commit_ref(version: Version) -> dict:
    entry = hf_views.commit_entry(version)
    return {"id": entry["id"], "title": entry["title"], "date": entry["date"]}


def paths_info(files: Iterable[VersionFile], paths: list[str], file_entry: Callable[[VersionFile], dict]) -> list[dict]:
    """The entries of ``paths`` (files or folders) that exist; the others are left out, as on the HF Hub."""
    files = list(files)
    by_path = {f.path: f for f in files}
    out = []
    for path in dict.fromkeys(p.strip("/") for p in paths):
        if path in by_path:
            out.append(file_entry(by_path[path]))
        elif path and any(f.path.startswith(path + "/") for f in files):
            out.append(hf_views.folder_entry(path, files))
    return out


def file_entry(f: VersionFile, ids: Callable[[VersionFile], dict], last: dict[str, Version] | None) -> dict:
    entry = {"type": "file", "size": f.size, "path": f.path, **ids(f)}
    if last is not None and f.path in last:
        entry["lastCommit"] = commit_ref(last[f.path])
    return entry

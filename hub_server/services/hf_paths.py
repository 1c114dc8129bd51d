"""``paths-info`` and the expanded tree of the HF view: the entries of given paths at a revision,
with git oids (``hf_oids``) and, when asked (``expand``), the ``lastCommit`` that gave each file its
current content: the oldest version in the revision's history from which the file kept the same
digest (versions are the commits); a folder's is the last version that changed anything inside it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..db.models import Version, VersionFile
from . import hf_views


def last_commits(history: list[Version]) -> dict[str, Version]:
    """path -> the version that last changed it; ``history`` newest first (as ``versions.history``).
    A folder is keyed with a trailing ``/`` (``"data/"``): the version that last added, changed or
    removed anything inside it, as git's last commit touching a tree (``HfFileSystem.modified``)."""
    last: dict[str, Version] = {}
    before: dict[str, str] = {}
    for version in reversed(history):  # oldest first
        now = {f.path: f.digest for f in version.files}
        changed = {p for p in now.keys() | before.keys() if now.get(p) != before.get(p)}
        for path in changed:
            if path in now:
                last[path] = version
            parts = path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                last["/".join(parts[:depth]) + "/"] = version
        before = now
    return last


def add_folder_commits(entries: list[dict], last: dict[str, Version] | None) -> list[dict]:
    """Give each folder entry its ``lastCommit`` (``expand``); files got theirs from ``file_entry``."""
    if last is not None:
        for entry in entries:
            if entry["type"] == "directory" and entry["path"] + "/" in last:
                entry["lastCommit"] = commit_ref(last[entry["path"] + "/"])
    return entries


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

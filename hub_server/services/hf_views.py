"""JSON shapes of the HF Hub API, built from hub repos and versions.

``huggingface_hub`` parses these into ``ModelInfo``, ``RepoFile``/``RepoFolder`` and
``GitRefs``. Files are always plain (no ``lfs``, no ``xetHash``) so the library never
switches to LFS or Xet transfers that a self-hosted hub does not speak.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from .hf_backend import HfFile, HfRepo, HfVersion


def iso(moment: datetime | None) -> str | None:
    """The exact form huggingface_hub parses: UTC, milliseconds, ``Z``."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def repo_tags(repo: HfRepo, card: dict) -> list[str]:
    tags = list(repo.tags) or [str(t) for t in card.get("tags") or []]
    for extra in (card.get("library_name"), repo.kind):
        if extra and extra not in tags:
            tags.append(str(extra))
    base = card.get("base_model")
    if isinstance(base, str) and card.get("base_model_relation"):
        tag = f"base_model:{card['base_model_relation']}:{base}"
        if tag not in tags:
            tags.append(tag)
    return tags


def model_summary(repo: HfRepo) -> dict:
    """One entry of ``GET /api/models`` (what ``list_models`` yields)."""
    return {
        "_id": repo.id,
        "id": repo.id,
        "modelId": repo.id,
        "author": repo.namespace,
        "private": repo.private,
        "downloads": repo.downloads,
        "likes": 0,
        "library_name": repo.card.get("library_name"),
        "tags": repo_tags(repo, repo.card),
        "createdAt": iso(repo.created_at),
        "lastModified": iso(repo.updated_at or repo.created_at),
    }


def model_info(repo: HfRepo, version: HfVersion | None) -> dict:
    """``GET /api/models/{repo}[/revision/{rev}]`` (``model_info`` / ``repo_info``)."""
    card = version.card if version is not None else repo.card
    info = model_summary(repo)
    info.update(
        {
            "sha": version.commit if version else None,
            "lastModified": iso(version.created_at if version else repo.updated_at),
            "gated": False,
            "disabled": False,
            "library_name": card.get("library_name"),
            "tags": repo_tags(repo, card),
            "cardData": card,
            "siblings": [
                {"rfilename": f.path, "size": f.size, "blobId": f.sha256}
                for f in (version.files if version else ())
            ],
        }
    )
    return info


def _file_entry(f: HfFile) -> dict:
    return {"type": "file", "oid": f.sha256, "size": f.size, "path": f.path}


def _folder_entry(path: str, files: list[HfFile]) -> dict:
    inside = sorted(f.sha256 for f in files if f.path.startswith(path + "/"))
    oid = hashlib.sha1("\n".join(inside).encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def tree(files: tuple[HfFile, ...], prefix: str, recursive: bool) -> list[dict] | None:
    """Entries under ``prefix`` (``""`` = root); None if ``prefix`` is not a folder."""
    prefix = prefix.strip("/")
    base = prefix + "/" if prefix else ""
    inside = [f for f in files if f.path.startswith(base)]
    if prefix and not inside:
        return None
    folders: set[str] = set()
    entries: list[dict] = []
    for f in inside:
        rest = f.path[len(base):].split("/")
        for depth in range(1, len(rest)):
            if depth > 1 and not recursive:
                break
            folders.add(base + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            entries.append(_file_entry(f))
    listed = list(inside)
    entries += [_folder_entry(folder, listed) for folder in sorted(folders)]
    return sorted(entries, key=lambda e: e["path"])


def refs(versions: list[HfVersion], main: HfVersion | None) -> dict:
    """``GET /api/models/{repo}/refs``: versions are tags, ``main`` is the only branch."""
    return {
        "branches": (
            [{"name": "main", "ref": "refs/heads/main", "targetCommit": main.commit}] if main else []
        ),
        "converts": [],
        "tags": [
            {"name": v.version, "ref": f"refs/tags/{v.version}", "targetCommit": v.commit}
            for v in versions
        ],
        "pullRequests": [],
    }

"""Every JSON shape and header of the Hugging Face-compatible view, built from the hub's own
rows (``Repo``, ``Version``, ``VersionFile``) and errors; nothing else knows the HF shapes.

``huggingface_hub`` parses these into ``ModelInfo``, ``RepoFile``/``RepoFolder``, ``GitRefs``
and ``GitCommitInfo``, and picks its exception from ``X-Error-Code``. Entries never carry a
``xetHash`` (nor resolve an ``X-Xet-Hash``): downloads stay plain HTTP, which every client
speaks; Xet serves uploads only (``xet_cas``). Versions are the repo's tags, ``main`` its only branch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ..db.models import Repo, Version, VersionFile
from ..errors import ServiceError
from .card import card_tags
from .hf_oids import lfs_pointer

# huggingface_hub treats exactly this message as "bad token", not "repo not found".
BAD_TOKEN = "Invalid credentials in Authorization header"


def iso(moment: datetime | None) -> str | None:
    """The exact form huggingface_hub parses: UTC, milliseconds, ``Z``."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _sha256(f: VersionFile) -> str:
    return f.digest.split(":", 1)[1]


def repo_tags(repo: Repo, card: dict) -> list[str]:
    indexed = json.loads(repo.metadata_json or "{}").get("tags") or []
    tags = [str(t) for t in indexed] if isinstance(indexed, list) and indexed else card_tags(card)
    for extra in (card.get("library_name"), repo.kind):
        if extra and extra not in tags:
            tags.append(str(extra))
    base = card.get("base_model")
    if isinstance(base, str) and card.get("base_model_relation"):
        tag = f"base_model:{card['base_model_relation']}:{base}"
        if tag not in tags:
            tags.append(tag)
    return tags


def model_summary(repo: Repo, card: dict) -> dict:
    """One entry of ``GET /api/models`` (what ``list_models`` yields); ``card``: the latest one."""
    repo_id = f"{repo.namespace}/{repo.name}"
    return {
        "_id": repo_id,
        "id": repo_id,
        "modelId": repo_id,
        "author": repo.namespace,
        "private": repo.private,
        "downloads": repo.downloads,
        "likes": repo.likes or 0,
        "library_name": card.get("library_name"),
        "tags": repo_tags(repo, card),
        "createdAt": iso(repo.created_at),
        "lastModified": iso(repo.updated_at or repo.created_at),
    }


def _sibling(f: VersionFile, lfs: Callable[[str, int], bool] | None) -> dict:
    entry: dict[str, Any] = {"rfilename": f.path, "size": f.size, "blobId": _sha256(f)}
    if lfs is not None and lfs(f.path, f.size):  # hf_gitattributes: as tree and paths-info list it
        entry["lfs"] = {"sha256": _sha256(f), "size": f.size, "pointerSize": len(lfs_pointer(_sha256(f), f.size))}
    return entry


def model_info(repo: Repo, version: Version | None, lfs: Callable[[str, int], bool] | None = None) -> dict:
    """``GET /api/models/{repo}[/revision/{rev}]`` (``model_info`` / ``repo_info``); ``lfs`` says
    which siblings are LFS files (``hf_gitattributes.is_lfs``)."""
    card = json.loads(version.card_json or "{}") if version is not None else {}
    info = model_summary(repo, card)
    info.update(
        {
            "sha": version.commit if version else None,
            "lastModified": iso(version.created_at if version else repo.updated_at),
            "gated": False,
            "disabled": False,
            "cardData": card,
            "siblings": [_sibling(f, lfs) for f in (version.files if version else ())],
        }
    )
    return info


def _file_entry(f: VersionFile) -> dict:
    return {"type": "file", "oid": _sha256(f), "size": f.size, "path": f.path}


def folder_entry(path: str, files: list[VersionFile]) -> dict:
    inside = sorted(_sha256(f) for f in files if f.path.startswith(path + "/"))
    oid = hashlib.sha1("\n".join(inside).encode()).hexdigest()
    return {"type": "directory", "oid": oid, "size": 0, "path": path}


def tree(
    files: Iterable[VersionFile], prefix: str, recursive: bool, file_entry: Callable[[VersionFile], dict] = _file_entry
) -> list[dict] | None:
    """Entries under ``prefix`` (``""`` = root) sorted by path; None if ``prefix`` is not a folder.
    ``file_entry`` renders a file (the HF routes pass one with git oids, ``hf_paths``)."""
    prefix = prefix.strip("/")
    base = prefix + "/" if prefix else ""
    inside = [f for f in files if f.path.startswith(base)]
    if prefix and not inside:
        return None
    folders: set[str] = set()
    entries: list[dict] = []
    for f in inside:
        rest = f.path[len(base) :].split("/")
        for depth in range(1, len(rest)):
            if depth > 1 and not recursive:
                break
            folders.add(base + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            entries.append(file_entry(f))
    entries += [folder_entry(folder, inside) for folder in sorted(folders)]
    return sorted(entries, key=lambda e: e["path"])


def refs(versions: list[Version], main: Version | None) -> dict:
    """``GET /api/models/{repo}/refs``: versions are tags, ``main`` is the only branch."""
    return {
        "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": main.commit}] if main else [],
        "converts": [],
        "tags": [{"name": v.version, "ref": f"refs/tags/{v.version}", "targetCommit": v.commit} for v in versions],
        "pullRequests": [],
    }


def commit_entry(version: Version) -> dict:
    """One item of ``GET /api/models/{repo}/commits/{rev}`` (``list_repo_commits``): the title is
    the message's first line (the version name when there is no message), the rest its message."""
    title, _, rest = (version.message or "").strip().partition("\n")
    return {
        "id": version.commit,
        "authors": [{"user": version.author}] if version.author else [],
        "date": iso(version.created_at),
        "title": title.strip() or f"version {version.version}",
        "message": rest.strip(),
    }


def commit_answer(base_url: str, repo: Repo, version: Version) -> dict:
    """What ``create_commit`` reads back; ``version`` is the hub version the commit became."""
    return {
        "commitUrl": f"{base_url}/{repo.namespace}/{repo.name}/commit/{version.commit}",
        "commitOid": version.commit,
        "pullRequestUrl": None,
        "version": version.version,
    }


def whoami(name: str, orgs: Iterable[str], scope: str, fullnames: dict[str, str] | None = None) -> dict:
    """``fullnames``: display names by account name (``accounts.display_names``); the name otherwise."""
    fullnames = fullnames or {}
    return {
        "type": "user",
        "name": name,
        "fullname": fullnames.get(name, name),
        "orgs": [{"type": "org", "name": org, "fullname": fullnames.get(org, org)} for org in orgs],
        "auth": {"type": "access_token", "accessToken": {"displayName": "hub token", "role": scope}},
    }


def content_disposition(path: str) -> str:
    """``inline`` with an ASCII ``filename`` and the exact UTF-8 name as ``filename*`` (RFC 6266 /
    RFC 5987), so any file name fits a Latin-1 header line."""
    name = path.rsplit("/", 1)[-1]
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_headers(repo: Repo, version: Version, f: VersionFile, git_oid: str | None = None) -> dict[str, str]:
    """What ``hf_hub_download`` needs from HEAD: the commit, an ETag and the size. As on the HF Hub,
    a plain git file (``git_oid`` given) has its git blob sha1 as ETag; an LFS file has its sha256
    as ``X-Linked-Etag`` and ETag (so the HF cache deduplicates like ours)."""
    etags = {"ETag": f'"{git_oid}"'} if git_oid else {"ETag": f'"{_sha256(f)}"', "X-Linked-Etag": f'"{_sha256(f)}"'}
    return {
        "X-Repo-Commit": version.commit,
        **etags,
        "X-Linked-Size": str(f.size),
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(f.path),
        "Cache-Control": "private, max-age=0" if repo.private else "public, max-age=0",
    }


def next_link(url: str) -> dict[str, str]:
    """The ``Link`` header ``huggingface_hub``'s ``paginate`` follows (GitHub style)."""
    return {"Link": f'<{url}>; rel="next"'}


_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")


def header_safe(text: str) -> str:
    """``text`` as a valid HTTP header value: printable ASCII only (any other character, control
    characters from a stranger's repo name included, becomes ``?``), at most 500 characters."""
    return _NOT_PRINTABLE.sub("?", text[:500])


def error(exc: ServiceError, extra_headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    """``(status, body, headers)`` of a hub error the HF way: ``{"error": message}`` and X-Error-*."""
    status = exc.hf_status or exc.status
    headers = {**exc.headers, "X-Error-Code": exc.hf_code, "X-Error-Message": header_safe(exc.message)}
    if status == 401 and exc.hf_code == "Unauthorized":  # a gate's 401 keeps its code (GatedRepo)
        headers["X-Error-Message"] = BAD_TOKEN
        headers.pop("X-Error-Code")
    headers.update(extra_headers or {})
    return status, {"error": exc.message, **exc.extra}, headers


def eval_result(row: dict, *, verify_token: str | None, source_url: str) -> dict:
    """One ``evalResults`` item (``huggingface_hub.EvalResultEntry`` reads ``data``): a verified result
    carries ``verifyToken`` and ``verified: true``; a claim of the card alone ``verified: false``."""
    dataset, _, revision = row["dataset"].partition("@")
    verified = verify_token is not None
    data: dict[str, Any] = {
        "dataset": {"id": dataset, "task_id": row["metric"], "revision": revision},
        "value": row["value"] if verified else row["reported"],
        "source": {"url": source_url, "name": "Adapter Hub evaluator" if verified else "model card"},
        "notes": f"split {row['split']}",
    }
    if verified:
        data["verifyToken"] = verify_token
        data["date"] = row["finished"]
    return {"filename": f".eval_results/{dataset.replace('/', '__')}.yaml", "verified": verified, "data": data}


def leaderboard_entry(rank: int, row: dict, *, author_type: str, source_url: str) -> dict:
    """One ``get_dataset_leaderboard`` entry (``DatasetLeaderboardEntry``)."""
    namespace = row["repo"].split("/", 1)[0]
    return {
        "rank": rank,
        "modelId": row["repo"],
        "value": row["value"],
        "filename": f".eval_results/{row['dataset'].split('@', 1)[0].replace('/', '__')}.yaml",
        "verified": True,
        "source": {"url": source_url, "name": "Adapter Hub evaluator"},
        "author": {"name": namespace, "type": author_type, "fullname": namespace, "avatarUrl": ""},
        "notes": f"{row['metric']} on split {row['split']}, version {row['version']}",
    }

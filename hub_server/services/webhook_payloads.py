"""The JSON of a webhook event, in HF's payload shape (version 3, ``huggingface_hub.WebhookPayload``):
``event {action, scope}``, ``repo {type, name, id, private, url {web, api}, owner {id}, headSha}``, and
``discussion``, ``comment``, ``updatedRefs``, ``movedTo`` where the event has them. Users and owners are
named by their account name (``{"id": "alice"}``): the hub has no separate object ids for them.

Fields of this hub's own ride beside HF's: ``version`` (a release published, yanked or deleted) and
``evaluation`` (a verified result recorded); HF's parsers ignore what they do not know."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Discussion, DiscussionEvent, Repo, Version


def repo_type(repo: Repo) -> str:
    """The HF repo type a repo is watched and announced as: ``dataset``, or ``model`` (adapters and bases)."""
    return "dataset" if repo.kind == "dataset" else "model"


def main_head(session: Session, repo: Repo) -> str | None:
    """The commit ``main`` resolves to now (the newest un-yanked version), None for an empty repo."""
    if not repo.latest_version:
        return None
    return session.scalar(
        select(Version.commit).where(Version.repo_id == repo.id, Version.version == repo.latest_version)
    )


def repo_json(session: Session, repo: Repo, base: str) -> dict[str, Any]:
    kind = repo_type(repo)
    full = f"{repo.namespace}/{repo.name}"
    web = f"{base}/{'datasets/' if kind == 'dataset' else ''}{full}"
    return {
        "type": kind,
        "name": full,
        "id": str(repo.id),
        "private": bool(repo.private),
        "url": {"web": web, "api": f"{base}/api/{kind}s/{full}"},
        "owner": {"id": repo.namespace},
        "headSha": main_head(session, repo),
    }


def discussion_json(repo: Repo, row: Discussion, base: str) -> dict[str, Any]:
    kind = repo_type(repo)
    full = f"{repo.namespace}/{repo.name}"
    found: dict[str, Any] = {
        "id": str(row.id),
        "num": row.num,
        "author": {"id": row.author},
        "url": {
            "web": f"{base}/{'datasets/' if kind == 'dataset' else ''}{full}/discussions/{row.num}",
            "api": f"{base}/api/{kind}s/{full}/discussions/{row.num}",
        },
        "title": row.title,
        "isPullRequest": bool(row.is_pull_request),
        "status": row.status,
        "pinned": False,
    }
    if row.is_pull_request:
        found["changes"] = {"base": f"refs/heads/{row.target_branch or 'main'}", "mergeCommitId": row.merge_commit}
    return found


def comment_json(discussion: dict[str, Any], event: DiscussionEvent) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "author": {"id": event.author},
        "hidden": bool(event.hidden),
        "content": None if event.hidden else event.content,
        "url": {"web": f"{discussion['url']['web']}#{event.event_id}"},
    }


def version_json(row: Version) -> dict[str, Any]:
    return {
        "name": row.version,
        "commit": row.commit,
        "yanked": bool(row.yanked),
        "yankReason": row.yank_reason if row.yanked else None,
        "deleted": bool(row.deleted),
    }


def ref_update(ref: str, old: str | None, new: str | None) -> dict[str, Any]:
    return {"ref": ref, "oldSha": old, "newSha": new}

"""The HF JSON shapes of refs, discussions and their events (what ``huggingface_hub`` parses into
``GitRefs``, ``Discussion``, ``DiscussionWithDetails`` and ``DiscussionEvent``)."""

from __future__ import annotations

import json

from ..db.models import Discussion, DiscussionEvent, Repo, RepoRef, Version
from ..services.hf_views import iso
from ..web.markdown import render_markdown


def _ref(name: str, ref: str, commit: str) -> dict:
    return {"name": name, "ref": ref, "targetCommit": commit}


def refs(main: Version | None, versions: list[Version], named: list[RepoRef], include_prs: bool) -> dict:
    """``GET /api/models/{repo}/refs``: ``main`` and the branches; versions and plain tags as tags."""
    branches = [_ref("main", "refs/heads/main", main.commit)] if main is not None else []
    branches += [_ref(r.name, f"refs/heads/{r.name}", r.commit) for r in named if r.kind == "branch"]
    tags = [_ref(v.version, f"refs/tags/{v.version}", v.commit) for v in versions]
    tags += [_ref(r.name, f"refs/tags/{r.name}", r.commit) for r in named if r.kind == "tag"]
    out = {"branches": branches, "converts": [], "tags": tags}
    prs = sorted((r for r in named if r.kind == "pr"), key=lambda r: int(r.name))
    out["pullRequests"] = [_ref(f"refs/pr/{r.name}", f"refs/pr/{r.name}", r.commit) for r in prs] if include_prs else []
    return out


def _repo(repo: Repo) -> dict:
    return {"name": f"{repo.namespace}/{repo.name}", "type": "dataset" if repo.kind == "dataset" else "model"}


def summary(repo: Repo, row: Discussion, comments: int = 0) -> dict:
    """One item of ``GET .../discussions``."""
    return {
        "num": row.num,
        "title": row.title,
        "status": row.status,
        "isPullRequest": row.is_pull_request,
        "author": {"name": row.author, "type": "user"},
        "createdAt": iso(row.created_at),
        "repo": _repo(repo),
        "numComments": comments,
        "pinned": False,
        "topReactions": [],
    }


def event(row: DiscussionEvent) -> dict:
    data = json.loads(row.data_json or "{}")
    out = {
        "id": row.event_id,
        "type": row.kind,
        "createdAt": iso(row.created_at),
        "author": {"name": row.author, "type": "user"},
    }
    if row.kind == "comment":
        latest = {
            "raw": row.content,
            "html": str(render_markdown(row.content)) if not row.hidden else "",
            "updatedAt": iso(row.updated_at),
            "author": {"name": row.author},
        }
        history = [latest] + [
            {"raw": h.get("raw", ""), "updatedAt": h.get("updatedAt")} for h in data.get("history", [])
        ]
        out["data"] = {
            "edited": row.edited,
            "hidden": row.hidden,
            "latest": latest,
            "numEdits": len(history) - 1,
            "editors": [row.author],
            "reactions": [],
            "identifiedLanguage": None,
            "isReport": False,
            "history": history if not row.hidden else [],
        }
    else:
        out["data"] = data
    return out


def details(repo: Repo, row: Discussion, events: list[DiscussionEvent], conflicts: list[str], diff: str) -> dict:
    out = summary(repo, row, sum(1 for e in events if e.kind == "comment"))
    out["events"] = [event(e) for e in events]
    if row.is_pull_request:
        out["changes"] = {"base": f"refs/heads/{row.target_branch or 'main'}"}
        if row.merge_commit:
            out["changes"]["mergeCommitId"] = row.merge_commit
        out["filesWithConflicts"] = conflicts
        out["diff"] = diff
    return out


def name_status(base: dict, head: dict) -> str:
    """A pull request's changes, one ``A|M|D<TAB>path`` line each (git's ``--name-status``)."""
    lines = []
    for path in sorted(base.keys() | head.keys()):
        if base.get(path) != head.get(path):
            lines.append(("A" if path not in base else "D" if path not in head else "M") + "\t" + path)
    return "\n".join(lines)


def ref_commit_answer(base_url: str, repo: Repo, done) -> dict:
    """What ``create_commit`` reads back from a commit to a branch or pull request (``pr_url``
    parses ``/discussions/N`` into ``pr_revision`` ``refs/pr/N``)."""
    url = f"{base_url}/{repo.namespace}/{repo.name}"
    return {
        "commitUrl": f"{url}/commit/{done.commit}",
        "commitOid": done.commit,
        "pullRequestUrl": f"{url}/discussions/{done.pull_request}" if done.pull_request else None,
    }

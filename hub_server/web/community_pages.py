"""The Community tab of a repo (``/NS/NAME/discussions``, the URL ``huggingface_hub`` hands out as
``pr_url``): the list of discussions and pull requests, one page per discussion with its comments
(Markdown through the site's one sanitiser), a comment form for signed-in visitors, close/reopen for
the author and the owners, and merge for the owners. Every form is CSRF-checked and goes through
the same ``discussions``/``pr_merge`` services as the HF API, so the rules are the same."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from ..errors import Invalid
from ..services import discussions, pr_merge, refs
from ..services.repos import find_repo
from ..services.views import repo_json
from .render import page
from .routing import FormDep, HubDep, PageRoute, VisitorDep, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _signin(namespace: str, name: str, suffix: str = ""):
    return redirect(f"/signin?next=/{namespace}/{name}/discussions{suffix}")


@router.get("/{namespace}/{name}/discussions")
def community(
    request: Request,
    hub: HubDep,
    visitor: VisitorDep,
    namespace: str,
    name: str,
    status: str = "all",
    type: str = "all",
):
    repo, rows, total = discussions.listing(hub, visitor.principal, namespace, name, status=status, kind=type, size=200)
    counts = discussions.comment_counts(hub, rows)
    return page(
        request,
        visitor,
        "community.html",
        repo=repo_json(repo),
        rows=rows,
        total=total,
        counts=counts,
        status_filter=status,
        type_filter=type,
        title_limit=discussions.MAX_TITLE_CHARS,
    )


@router.post("/{namespace}/{name}/discussions")
def new_discussion(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str):
    if visitor.principal is None:
        return _signin(namespace, name)
    row = discussions.create(
        hub, visitor.principal, namespace, name, form.get("title", ""), form.get("description", ""), False
    )
    return redirect(f"/{namespace}/{name}/discussions/{row.num}")


@router.get("/{namespace}/{name}/discussions/{num}")
def discussion_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str, num: int):
    repo, row, events = discussions.details(hub, visitor.principal, namespace, name, num)
    who = visitor.principal
    owner = who is not None and who.owns(repo.namespace)
    changes, conflicts = [], []
    if row.is_pull_request:
        conflicts = pr_merge.conflicts_of(hub, repo, row)
        with hub.db.read() as s:
            base = refs.by_commit(s, repo, row.base_commit) if row.base_commit else None
            head = refs.lookup(s, repo, f"refs/pr/{num}")
            before, after = refs.files_of(base), refs.files_of(head)
        changes = [
            ("added" if p not in before else "deleted" if p not in after else "modified", p)
            for p in sorted(before.keys() | after.keys())
            if before.get(p) != after.get(p)
        ]
    return page(
        request,
        visitor,
        "discussion.html",
        repo=repo_json(repo),
        d=row,
        events=[(e, json.loads(e.data_json or "{}")) for e in events],
        changes=changes,
        conflicts=conflicts,
        can_merge=owner and row.is_pull_request and row.status == "open",
        can_close=who is not None and (owner or who.name == row.author) and row.status != "merged",
    )


@router.post("/{namespace}/{name}/discussions/{num}/comment")
def comment(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str, num: int):
    if visitor.principal is None:
        return _signin(namespace, name, f"/{num}")
    discussions.comment(hub, visitor.principal, namespace, name, num, form.get("comment", ""))
    return redirect(f"/{namespace}/{name}/discussions/{num}")


@router.post("/{namespace}/{name}/discussions/{num}/status")
def change_status(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str, num: int):
    if visitor.principal is None:
        return _signin(namespace, name, f"/{num}")
    discussions.set_status(hub, visitor.principal, namespace, name, num, form.get("status"))
    return redirect(f"/{namespace}/{name}/discussions/{num}")


@router.post("/{namespace}/{name}/discussions/{num}/merge")
def merge(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str, num: int):
    if visitor.principal is None:
        return _signin(namespace, name, f"/{num}")
    with hub.db.read() as s:
        find_repo(s, visitor.principal, namespace, name)  # private repos: 404 before anything else
    if form.get("confirm") != "merge":
        raise Invalid("confirm the merge")
    pr_merge.merge(hub, visitor.principal, namespace, name, num)
    return redirect(f"/{namespace}/{name}/discussions/{num}")

"""HF routes of discussions and pull requests (``create_discussion``, ``get_repo_discussions``,
``get_discussion_details``, ``comment_discussion``, ``rename_discussion``,
``change_discussion_status``, ``merge_pull_request``, ``edit_discussion_comment``,
``hide_discussion_comment``) over ``services.discussions`` and ``services.pr_merge``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..errors import Invalid
from ..public_url import public_base
from ..services import discussions, pr_merge, refs
from . import hf_ref_views as views
from .deps import Caller, HubDep
from .hf_common import HfRoute, Writer, json_object

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)
KINDS = ("models", "datasets")


async def _body(request: Request) -> dict:
    return await json_object(request) if (await request.body()).strip() else {}


def _details(hub, caller, namespace: str, name: str, num: int) -> dict:
    repo, row, events = discussions.details(hub, caller, namespace, name, num)
    conflicts, diff = [], ""
    if row.is_pull_request:
        conflicts = pr_merge.conflicts_of(hub, repo, row)
        with hub.db.read() as s:
            base = refs.by_commit(s, repo, row.base_commit) if row.base_commit else None
            head = refs.lookup(s, repo, f"refs/pr/{num}")
            diff = views.name_status(refs.files_of(base), refs.files_of(head))
    return views.details(repo, row, events, conflicts, diff)


for kind in KINDS:
    base = f"/{kind}/{{namespace}}/{{name}}/discussions"

    @router.get(base)
    def list_discussions(
        namespace: str,
        name: str,
        hub: HubDep,
        caller: Caller,
        type: str = "all",
        status: str = "all",
        author: str | None = None,
        p: int = 0,
    ) -> dict:
        repo, rows, total = discussions.listing(
            hub, caller, namespace, name, kind=type, status=status, author=author, page=p
        )
        counts = discussions.comment_counts(hub, rows)
        return {
            "discussions": [views.summary(repo, r, counts.get(r.id, 0)) for r in rows],
            "count": total,
            "start": p * discussions.PAGE,
            "numClosedDiscussions": 0,
        }

    @router.post(base)
    async def create_discussion(namespace: str, name: str, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        pull_request = body.get("pullRequest", False)
        if not isinstance(pull_request, bool):
            raise Invalid("'pullRequest' must be true or false")
        row = await run_in_threadpool(
            discussions.create, hub, caller, namespace, name, body.get("title"), body.get("description"), pull_request
        )
        return {
            "num": row.num,
            "pullRequest": row.is_pull_request,
            "url": f"{public_base(request)}/{namespace}/{name}/discussions/{row.num}",
        }

    @router.get(base + "/{num}")
    def discussion_details(namespace: str, name: str, num: int, hub: HubDep, caller: Caller) -> dict:
        return _details(hub, caller, namespace, name, num)

    @router.post(base + "/{num}/comment")
    async def comment(namespace: str, name: str, num: int, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        event = await run_in_threadpool(discussions.comment, hub, caller, namespace, name, num, body.get("comment"))
        return {"newMessage": views.event(event)}

    @router.post(base + "/{num}/title")
    async def rename(namespace: str, name: str, num: int, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        event = await run_in_threadpool(discussions.rename, hub, caller, namespace, name, num, body.get("title"))
        return {"newTitle": views.event(event)}

    @router.post(base + "/{num}/status")
    async def change_status(namespace: str, name: str, num: int, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        event = await run_in_threadpool(
            discussions.set_status, hub, caller, namespace, name, num, body.get("status"), body.get("comment")
        )
        return {"newStatus": views.event(event)}

    @router.post(base + "/{num}/merge")
    async def merge(namespace: str, name: str, num: int, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await _body(request)
        pr = await run_in_threadpool(pr_merge.merge, hub, caller, namespace, name, num, body.get("comment"))
        return {"num": pr.num, "status": pr.status, "mergeCommitId": pr.merge_commit, "version": pr.merged_version}

    @router.post(base + "/{num}/comment/{event_id}/edit")
    async def edit_comment(
        namespace: str, name: str, num: int, event_id: str, request: Request, hub: HubDep, caller: Writer
    ) -> dict:
        body = await json_object(request)
        event = await run_in_threadpool(
            discussions.edit_comment, hub, caller, namespace, name, num, event_id, body.get("content")
        )
        return {"updatedComment": views.event(event)}

    @router.post(base + "/{num}/comment/{event_id}/hide")
    async def hide_comment(namespace: str, name: str, num: int, event_id: str, hub: HubDep, caller: Writer) -> dict:
        event = await run_in_threadpool(discussions.hide_comment, hub, caller, namespace, name, num, event_id)
        return {"updatedComment": views.event(event)}

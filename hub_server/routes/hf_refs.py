"""HF routes of branches and tags (``create_branch``, ``delete_branch``, ``create_tag``,
``delete_tag``) over ``services.refs``, and ``super_squash_history``, refused (``HistoryImmutable``); ``list_repo_refs`` is answered in ``hf_api`` from the same
service. Names arrive percent-encoded (``feature%2Fx``) and are decoded by the router, so every
name route takes the rest of the path."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..errors import Invalid, ServiceError
from ..services import refs, repos
from ..services.auth import require_write
from .deps import HubDep
from .hf_common import HfRoute, Writer, json_object

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)
KINDS = ("models", "datasets")


async def _body(request: Request) -> dict:
    return await json_object(request) if (await request.body()).strip() else {}


def _text(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise Invalid(f"{key!r} must be a string")
    return value


for kind in KINDS:

    @router.post(f"/{kind}/{{namespace}}/{{name}}/branch/{{branch:path}}")
    async def create_branch(
        namespace: str, name: str, branch: str, request: Request, hub: HubDep, caller: Writer
    ) -> dict:
        body = await _body(request)
        await run_in_threadpool(refs.create_branch, hub, caller, namespace, name, branch, _text(body, "startingPoint"))
        return {}

    @router.delete(f"/{kind}/{{namespace}}/{{name}}/branch/{{branch:path}}")
    async def delete_branch(namespace: str, name: str, branch: str, hub: HubDep, caller: Writer) -> dict:
        await run_in_threadpool(refs.delete_branch, hub, caller, namespace, name, branch)
        return {}

    @router.post(f"/{kind}/{{namespace}}/{{name}}/tag/{{revision:path}}")
    async def create_tag(
        namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Writer
    ) -> dict:
        body = await _body(request)
        tag = _text(body, "tag")
        if not tag:
            raise Invalid("'tag' is required")
        await run_in_threadpool(refs.create_tag, hub, caller, namespace, name, tag, revision, _text(body, "message"))
        return {}

    @router.delete(f"/{kind}/{{namespace}}/{{name}}/tag/{{tag:path}}")
    async def delete_tag(namespace: str, name: str, tag: str, hub: HubDep, caller: Writer) -> dict:
        await run_in_threadpool(refs.delete_tag, hub, caller, namespace, name, tag)
        return {}


class HistoryImmutable(ServiceError):
    """409: squashing would rewrite published versions, which are immutable releases."""

    status, code, hf_code = 409, "history_immutable", "HistoryImmutable"


for kind in KINDS:

    @router.post(f"/{kind}/{{namespace}}/{{name}}/super-squash/{{branch:path}}")
    def super_squash_history(namespace: str, name: str, branch: str, hub: HubDep, caller: Writer) -> dict:
        """``super_squash_history``: refused. ``main`` is the list of versions, and a version is never
        rewritten or removed by anything but its own yank/delete (its name stays bound to its commit)."""
        repo = repos.get_repo(hub, caller, namespace, name)
        require_write(caller, repo.namespace)
        raise HistoryImmutable(
            f"the history of {namespace}/{name} cannot be squashed: its versions are immutable "
            "releases (yank or delete a version instead)"
        )

"""HF routes of gated repos' access requests (``list_pending_access_requests`` and the accepted and
rejected lists, ``ask`` (a token's own request), ``accept_access_request``/``reject_access_request``/``cancel_access_request``
through ``handle``, ``grant_access``) over ``services.gates``; owners only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..db.models import AccessRequest
from ..services import gates
from ..services.hf_views import iso
from .deps import HubDep
from .hf_common import HfRoute, Writer, json_object

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)


def request_json(row: AccessRequest) -> dict:
    return {
        "user": {"user": row.user_name, "fullname": row.user_name},
        "requestId": row.request_id,
        "status": row.status,
        "timestamp": iso(row.created_at),
        "fields": None,
    }


for kind in ("models", "datasets"):
    base = f"/{kind}/{{namespace}}/{{name}}/user-access-request"

    @router.post(base + "/handle")
    async def handle(namespace: str, name: str, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        await run_in_threadpool(
            gates.handle,
            hub,
            caller,
            namespace,
            name,
            body.get("user"),
            body.get("status"),
            body.get("rejectionReason"),
            body.get("requestId"),
        )
        return {}

    @router.post(base + "/grant")
    async def grant(namespace: str, name: str, request: Request, hub: HubDep, caller: Writer) -> dict:
        body = await json_object(request)
        await run_in_threadpool(gates.grant, hub, caller, namespace, name, body.get("user"))
        return {}

    @router.post(base + "/ask")
    def ask(namespace: str, name: str, hub: HubDep, caller: Writer) -> dict:
        """Request access with a token (this hub's addition; on the site: the repo's access page)."""
        return request_json(gates.ask(hub, caller, namespace, name))

    @router.get(base + "/{status}")
    def list_requests(namespace: str, name: str, status: str, hub: HubDep, caller: Writer) -> list:
        return [request_json(r) for r in gates.listing(hub, caller, namespace, name, status)]

"""HF routes of webhooks (``HfApi.create_webhook``, ``list_webhooks``, ``get_webhook``, ``update_webhook``,
``enable_webhook``, ``disable_webhook``, ``delete_webhook``) and each webhook's delivery log, over
``services.webhooks``; the JSON is what ``huggingface_hub`` reads into ``WebhookInfo``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..services import webhooks
from .bodies import WebhookBody, hf_body, hf_schema
from .deps import Caller, HubDep
from .hf_common import HfRoute, json_object

router = APIRouter(prefix="/api/settings/webhooks", tags=["huggingface"], route_class=HfRoute)


async def _body(request: Request) -> dict:
    return hf_body(WebhookBody, await json_object(request)).model_dump()


@router.get("")
def list_webhooks(hub: HubDep, caller: Caller) -> JSONResponse:
    return JSONResponse(webhooks.list_mine(hub, caller))


@router.post("", openapi_extra=hf_schema(WebhookBody))
async def create_webhook(request: Request, hub: HubDep, caller: Caller) -> dict:
    webhooks.require_manager(caller)  # before the body is read
    body = await _body(request)
    return {"webhook": await run_in_threadpool(webhooks.create, hub, caller, body)}


@router.get("/{webhook_id}")
def get_webhook(webhook_id: str, hub: HubDep, caller: Caller) -> dict:
    return {"webhook": webhooks.get(hub, caller, webhook_id)}


@router.post("/{webhook_id}", openapi_extra=hf_schema(WebhookBody))
async def update_webhook(webhook_id: str, request: Request, hub: HubDep, caller: Caller) -> dict:
    webhooks.require_manager(caller)
    body = await _body(request)
    return {"webhook": await run_in_threadpool(webhooks.update, hub, caller, webhook_id, body)}


@router.post("/{webhook_id}/enable")
def enable_webhook(webhook_id: str, hub: HubDep, caller: Caller) -> dict:
    return {"webhook": webhooks.set_disabled(hub, caller, webhook_id, False)}


@router.post("/{webhook_id}/disable")
def disable_webhook(webhook_id: str, hub: HubDep, caller: Caller) -> dict:
    return {"webhook": webhooks.set_disabled(hub, caller, webhook_id, True)}


@router.delete("/{webhook_id}")
def delete_webhook(webhook_id: str, hub: HubDep, caller: Caller) -> dict:
    webhooks.delete(hub, caller, webhook_id)
    return {}


@router.get("/{webhook_id}/deliveries")
def webhook_deliveries(webhook_id: str, hub: HubDep, caller: Caller, limit: int = 50) -> dict:
    """The webhook's delivery log, newest first: event, status, HTTP status code, attempts, times, error."""
    return {"deliveries": webhooks.deliveries(hub, caller, webhook_id, limit)}

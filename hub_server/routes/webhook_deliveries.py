"""The two calls a worker makes on a webhook delivery (claim it, report how the POST went). Thin: the
decisions live in ``services/webhook_deliveries.py``."""

from __future__ import annotations

from fastapi import APIRouter

from ..services import webhook_deliveries
from .bodies import DeliveryClaim, DeliveryResult
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1/webhook-deliveries", tags=["webhooks"])


@router.post("/{delivery_id}/claim")
def claim(hub: HubDep, who: Caller, delivery_id: str, body: DeliveryClaim) -> dict:
    """One attempt: the URL, the exact body and its signed headers, the time limit, and whether private
    targets are allowed (the worker checks the address again before it connects)."""
    return webhook_deliveries.claim(hub, who, delivery_id, body.worker)


@router.post("/{delivery_id}/result")
def result(hub: HubDep, who: Caller, delivery_id: str, body: DeliveryResult) -> dict:
    return webhook_deliveries.report(
        hub,
        who,
        delivery_id,
        body.worker,
        attempt=body.attempt,
        status_code=body.status_code,
        error=body.error,
        duration_ms=body.duration_ms,
    )

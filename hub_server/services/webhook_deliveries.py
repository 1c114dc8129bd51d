"""Delivering webhook events through the job queue: the hub records a delivery with its event
(``webhook_events``), sends its id alone on the ``webhooks`` queue, and a ``hub worker`` claims it over HTTP
(getting the URL, the body and this attempt's signed headers), POSTs it and reports the status code or the
one-line error. The hub decides the rest, so every worker behaves alike:

- a 2xx answer: ``delivered``; the webhook's run of failures is reset;
- anything else (another status, no answer, a refused target): ``pending`` again, due after
  ``HUB_WEBHOOK_BACKOFF_SECONDS`` doubled per attempt (capped by ``HUB_WEBHOOK_BACKOFF_MAX_SECONDS``),
  until ``HUB_WEBHOOK_MAX_ATTEMPTS`` attempts: then ``failed``, and after ``HUB_WEBHOOK_DISABLE_AFTER`` failed
  deliveries in a row the webhook is disabled (its owner enables it again);
- a worker that claimed a delivery and went silent past the POST's time limit loses it: a failed attempt.

A delivery is claimed by one worker at a time and only when due, so a message handed out twice (late
acknowledgement, the loop's resend) is sent once. The hub's delivery loop sends due retries and any
delivery whose message never reached the queue. Worker tokens have the ``evaluate`` scope (the one
scope of ``hub worker``, which may consume both queues)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from ..db.models import Webhook, WebhookDelivery, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..settings import Settings
from . import audit
from .auth import Principal, require_user
from .context import Hub
from .tokens import aware
from .webhook_events import NEW_DELIVERIES
from .webhook_signing import signed_headers

WORKER_SCOPES = ("evaluate", "admin")
RESEND_AFTER_SECONDS = 120.0  # a pending delivery handed to the queue this long ago and still unclaimed
LEASE_GRACE_SECONDS = 30.0  # beyond the POST's own time limit, before a silent worker loses its claim
FINISHED = ("delivered", "failed")
_ID = re.compile(r"[0-9a-f]{32}")


def require_worker(who: Principal | None) -> Principal:
    who = require_user(who)
    if who.scope not in WORKER_SCOPES:
        raise Forbidden(
            f"token scope {who.scope!r} cannot deliver webhooks; a worker's token has scope evaluate "
            "(`hub admin create-token NAME --scope evaluate`)"
        )
    return who


def backoff_seconds(settings: Settings, attempts: int) -> float:
    """The wait after the ``attempts``-th failed attempt: the base, doubled each time, capped."""
    return float(
        min(settings.webhook_backoff_max_seconds, settings.webhook_backoff_seconds * 2 ** max(0, attempts - 1))
    )


def lease_seconds(settings: Settings) -> float:
    return settings.webhook_timeout_seconds + LEASE_GRACE_SECONDS


def _one_line(text: Any, limit: int) -> str:
    return " ".join(str(text or "").split())[:limit]


def _iso(moment: datetime | None) -> str | None:
    moment = aware(moment)
    return moment.isoformat() if moment is not None else None


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    """One line of a webhook's delivery log."""
    return {
        "id": row.id,
        "event": {"action": row.action, "scope": row.scope},
        "repo": row.repo,
        "status": row.status,
        "statusCode": row.status_code,
        "attempts": row.attempts,
        "error": row.error,
        "durationMs": row.duration_ms,
        "createdAt": _iso(row.created_at),
        "lastAttemptAt": _iso(row.claimed_at),
        "nextAttemptAt": _iso(row.next_attempt_at) if row.status == "pending" else None,
        "finishedAt": _iso(row.finished_at),
        "worker": row.worker,
    }


def _delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    row = session.get(WebhookDelivery, delivery_id) if _ID.fullmatch(delivery_id) else None
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id[:40]} not found")
    return row


def claim(hub: Hub, who: Principal | None, delivery_id: str, worker: str) -> dict[str, Any]:
    """The worker ``worker`` takes one attempt of the delivery: 200 with what to POST where, or 409 when
    it is finished, being sent, not due yet, or its webhook was disabled meanwhile."""
    who = require_worker(who)
    worker = _one_line(worker, 100) or who.name
    now = utcnow()
    refused = None
    with hub.db.write() as s:
        row = _delivery(s, delivery_id)
        hook = s.get(Webhook, row.webhook_id)
        due = aware(row.next_attempt_at) or now
        if row.status != "pending":
            refused = f"webhook delivery {delivery_id} is {'being sent' if row.status == 'sending' else row.status}"
        elif due > now + timedelta(seconds=1):
            refused = f"webhook delivery {delivery_id} is not due until {due.isoformat(timespec='seconds')}"
        elif hook is None or hook.disabled:
            row.status, row.finished_at, row.error = "failed", now, "not sent: the webhook is disabled"
            refused = f"webhook delivery {delivery_id} not sent: its webhook is disabled"
        else:
            row.status, row.worker, row.claimed_at, row.attempts = "sending", worker, now, row.attempts + 1
            url, secret, body, attempt = hook.url, hook.secret, row.payload_json, row.attempts
    if refused is not None:
        raise Conflict(refused)
    return {
        "delivery_id": delivery_id,
        "url": url,
        "body": body,
        "headers": signed_headers(delivery_id, secret, body, now),
        "attempt": attempt,
        "timeout_seconds": hub.settings.webhook_timeout_seconds,
        "allow_private": hub.settings.webhook_allow_private,
    }


def _attempt_failed(hub: Hub, s: Session, row: WebhookDelivery, hook: Webhook, why: str, now: datetime) -> None:
    row.error = _one_line(why, 1000) or "failed without a reason"
    settings = hub.settings
    if row.attempts < settings.webhook_max_attempts:
        row.status, row.sent_at = "pending", None
        row.next_attempt_at = now + timedelta(seconds=backoff_seconds(settings, row.attempts))
        return
    row.status, row.finished_at = "failed", now
    hook.failures += 1
    if not hook.disabled and hook.failures >= settings.webhook_disable_after:
        hook.disabled, hook.updated_at = True, now
        hook.disabled_reason = f"disabled after {hook.failures} failed deliveries in a row; the last: {row.error}"[:500]
        audit.record(s, "webhook.disable", None, f"webhook {hook.id}", failures=hook.failures, error=row.error)


def _prune(hub: Hub, s: Session, webhook_id: str) -> None:
    """Keep the newest ``HUB_WEBHOOK_LOG_SIZE`` finished deliveries of the webhook."""
    old = s.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status.in_(FINISHED))
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
        .offset(max(1, hub.settings.webhook_log_size))
    ).all()
    if old:
        s.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)))


def report(
    hub: Hub,
    who: Principal | None,
    delivery_id: str,
    worker: str,
    *,
    attempt: int,
    status_code: int | None,
    error: str = "",
    duration_ms: int | None = None,
) -> dict[str, Any]:
    """Record how attempt ``attempt`` went (once, for the worker that claimed it); the delivery's log line."""
    who = require_worker(who)
    if status_code is not None and not 100 <= status_code <= 599:
        raise Invalid("status_code must be an HTTP status (100-599) or null")
    worker = _one_line(worker, 100) or who.name
    now = utcnow()
    with hub.db.write() as s:
        row = _delivery(s, delivery_id)
        if row.status != "sending" or row.worker != worker or row.attempts != attempt:
            raise Conflict(f"webhook delivery {delivery_id} attempt {attempt} is not being sent by {worker}")
        hook = s.get(Webhook, row.webhook_id, with_for_update=True)
        row.status_code = status_code
        row.duration_ms = max(0, int(duration_ms)) if duration_ms is not None else None
        if hook is None:
            row.status, row.finished_at = "failed", now
        elif status_code is not None and 200 <= status_code < 300:
            row.status, row.finished_at, row.error = "delivered", now, None
            hook.failures = 0
        else:
            _attempt_failed(hub, s, row, hook, error or f"the receiver answered HTTP {status_code}", now)
        if row.status in FINISHED:
            _prune(hub, s, row.webhook_id)
        return delivery_json(row)


def sweep(hub: Hub) -> list[str]:
    """Claims of silent workers become failed attempts; returns the due deliveries to hand to the queue
    (retries whose wait is over, and deliveries whose message never reached a worker)."""
    now = utcnow()
    with hub.db.write() as s:
        lost = s.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.status == "sending",
                WebhookDelivery.claimed_at < now - timedelta(seconds=lease_seconds(hub.settings)),
            )
        ).all()
        for row in lost:
            hook = s.get(Webhook, row.webhook_id, with_for_update=True)
            if hook is not None:
                _attempt_failed(hub, s, row, hook, f"worker {row.worker} stopped answering", now)
        due = s.scalars(_due(now).limit(500)).all()
        for row in due:
            row.sent_at = now
        return [row.id for row in due]


def _due(now: datetime) -> Any:
    return select(WebhookDelivery).where(
        WebhookDelivery.status == "pending",
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.sent_at.is_(None), WebhookDelivery.sent_at < now - timedelta(seconds=RESEND_AFTER_SECONDS)),
    )


def has_work(hub: Hub, settings: Settings) -> bool:
    now = utcnow()
    with hub.db.read() as s:
        if s.scalar(_due(now).with_only_columns(WebhookDelivery.id).limit(1)) is not None:
            return True
        stale = now - timedelta(seconds=lease_seconds(settings))
        return (
            s.scalar(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "sending", WebhookDelivery.claimed_at < stale)
                .limit(1)
            )
            is not None
        )


def send(hub: Hub, delivery_ids: list[str]) -> None:
    for delivery_id in delivery_ids:
        hub.queue.send_delivery(delivery_id)


def install(hub: Hub) -> None:
    """Queue the deliveries a write transaction recorded as soon as it commits."""

    def queue_new(session: Session) -> None:
        ids = session.info.pop(NEW_DELIVERIES, None)
        if ids:
            send(hub, ids)

    hub.db.after_commit(queue_new)


async def run_deliveries_forever(hub: Hub) -> None:
    """The delivery loop of each hub host (until the app's lifespan ends): a cheap read, and a write only
    when a delivery is due or a claim went stale. Two hosts at once are harmless: a claim admits one."""
    import logging

    import anyio
    from starlette.concurrency import run_in_threadpool

    log = logging.getLogger("hub_server.webhooks")
    interval = max(0.2, min(5.0, hub.settings.webhook_backoff_seconds / 2))
    while True:
        await anyio.sleep(interval)
        try:
            if await run_in_threadpool(has_work, hub, hub.settings):
                await run_in_threadpool(lambda: send(hub, sweep(hub)))
        except Exception:
            log.exception("webhook delivery sweep failed")

"""The append-only audit trail: one row per publish, yank, delete, token, webhook and gc event, written
in the same transaction as the change it records (so a rolled-back change leaves no event)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..db.models import AuditEvent, utcnow
from ..request_context import current_request_id

ACTIONS = (
    "repo.create",
    "repo.delete",
    "repo.move",
    "repo.visibility",
    "version.publish",
    "version.yank",
    "version.delete",
    "branch.create",
    "branch.delete",
    "tag.create",
    "tag.delete",
    "token.create",
    "token.revoke",
    "gc.run",
    "user.sessions_end",
    "user.disable",
    "user.enable",
    "user.fullname",
    "org.fullname",
    "org.private_by_default",
    "webhook.create",
    "webhook.update",
    "webhook.delete",
    "webhook.disable",
)


def record(session: Session, action: str, actor: str | None, target: str, **detail: Any) -> None:
    """Add one event to ``session``'s transaction."""
    assert action in ACTIONS, action
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor,
            action=action,
            target=target[:400],
            request_id=current_request_id(),
            detail_json=json.dumps(detail, default=str),
        )
    )


def list_events(
    db: Database, *, limit: int = 100, before: int | None = None, actor: str | None = None, action: str | None = None
) -> dict:
    """Newest first; ``next_before`` pages on to older events."""
    limit = max(1, min(int(limit), 1000))
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action:
        query = query.where(AuditEvent.action == action)
    with db.read() as s:
        rows = s.scalars(query).all()
    items = [event_json(e) for e in rows[:limit]]
    return {"items": items, "next_before": items[-1]["id"] if len(rows) > limit else None}


def event_json(e: AuditEvent) -> dict:
    return {
        "id": e.id,
        "at": e.at.isoformat() if e.at else None,
        "actor": e.actor,
        "action": e.action,
        "target": e.target,
        "request_id": e.request_id,
        "detail": json.loads(e.detail_json or "{}"),
    }

"""``/api/v1/admin``: what only admin-scope tokens may do: read the audit trail, end a user's web
sessions, disable or enable an account."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ..errors import Forbidden
from ..services import account_admin, audit
from ..services.auth import require_user
from .bodies import MAX_ROW_ID
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _admin(who) -> str:
    who = require_user(who)
    if not who.is_admin:
        raise Forbidden("this call needs an admin token")
    return who.name


@router.delete("/users/{user}/sessions")
def end_sessions(hub: HubDep, who: Caller, user: str) -> dict:
    """Sign ``user`` out of the site everywhere (their tokens are untouched)."""
    return account_admin.end_sessions(hub.db, user, actor=_admin(who))


@router.post("/users/{user}/disable")
def disable_user(hub: HubDep, who: Caller, user: str) -> dict:
    """Refuse the account's tokens and sessions from the next request on, and its sign-ins."""
    return account_admin.set_disabled(hub.db, user, True, actor=_admin(who))


@router.post("/users/{user}/enable")
def enable_user(hub: HubDep, who: Caller, user: str) -> dict:
    return account_admin.set_disabled(hub.db, user, False, actor=_admin(who))


@router.get("/audit")
def read_audit(
    hub: HubDep,
    who: Caller,
    limit: int = Query(100, ge=1, le=1000),
    before: int | None = Query(None, ge=1, le=MAX_ROW_ID),
    actor: str | None = Query(None, max_length=200),
    action: str | None = Query(None, max_length=200),
) -> dict:
    if not require_user(who).is_admin:
        raise Forbidden("the audit log needs an admin token")
    return audit.list_events(hub.db, limit=limit, before=before, actor=actor, action=action)

"""``/api/v1/admin``: what only admin-scope tokens may read (the audit trail)."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import Forbidden
from ..services import audit
from ..services.auth import require_user
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/audit")
def read_audit(hub: HubDep, who: Caller, limit: int = 100, before: int | None = None, actor: str | None = None,
               action: str | None = None) -> dict:
    if not require_user(who).is_admin:
        raise Forbidden("the audit log needs an admin token")
    return audit.list_events(hub.db, limit=limit, before=before, actor=actor, action=action)

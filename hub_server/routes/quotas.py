"""Admin routes for namespace storage quotas: read one (with its usage) or set it."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import Forbidden
from ..limits.quotas import namespace_usage, quota_of, set_namespace_quota
from ..services.auth import Principal, require_user
from ..services.names import check_name
from .bodies import QuotaSetting
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1/admin/quotas", tags=["admin"])


def _admin(who: Principal | None) -> Principal:
    who = require_user(who)
    if not who.is_admin:
        raise Forbidden("quotas are managed with an admin token")
    return who


def _answer(hub, namespace: str) -> dict:
    with hub.db.read() as s:
        return {
            "namespace": namespace,
            "max_bytes": quota_of(s, namespace, hub.settings),
            "used_bytes": namespace_usage(s, namespace),
        }


@router.get("/{namespace}")
def get_quota(hub: HubDep, who: Caller, namespace: str) -> dict:
    _admin(who)
    return _answer(hub, check_name(namespace, "namespace"))


@router.put("/{namespace}")
def put_quota(hub: HubDep, who: Caller, namespace: str, body: QuotaSetting) -> dict:
    """``{"max_bytes": N}`` sets the quota; ``{"max_bytes": null}`` returns to the default."""
    _admin(who)
    check_name(namespace, "namespace")
    with hub.db.write() as s:
        set_namespace_quota(s, namespace, body.max_bytes)
    return _answer(hub, namespace)

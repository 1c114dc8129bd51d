"""Native search route plus ``whoami`` and the health probe."""

from __future__ import annotations

from fastapi import APIRouter

from ..services.auth import require_user
from ..services.search import search as run_search
from .deps import Caller, HubDep

router = APIRouter(tags=["search"])


@router.get("/api/v1/search")
def search(
    hub: HubDep,
    who: Caller,
    q: str | None = None,
    namespace: str | None = None,
    kind: str | None = None,
    base: str | None = None,
    fingerprint: str | None = None,
    method: str | None = None,
    task: str | None = None,
    tag: str | None = None,
    license: str | None = None,
    sort: str = "downloads",
    limit: int = 20,
    cursor: str | None = None,
    model_fingerprint: str | None = None,
    verified: bool = False,
) -> dict:
    """``verified``: only repos with a verified result; ``sort=verified:<metric>``: best verified value first."""
    return run_search(
        hub,
        who,
        q=q,
        tag=tag,
        sort=sort,
        limit=limit,
        cursor=cursor,
        verified=verified,
        namespace=namespace,
        kind=kind,
        base=base,
        fingerprint=fingerprint,
        model_fingerprint=model_fingerprint,
        method=method,
        task=task,
        license=license,
    )


@router.get("/api/v1/whoami")
def whoami(who: Caller) -> dict:
    who = require_user(who)
    return {"user": who.name, "orgs": list(who.orgs), "scope": who.scope}


@router.get("/healthz")
def health() -> dict:
    return {"ok": True}

"""``/api/v1/tokens``: callers list, create and revoke their own tokens. A new token never has
a wider scope than the token that asks for it, nor outlives it; a read token may revoke only itself."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from ..errors import Forbidden
from ..services import tokens
from ..services.auth import require_user
from ..services.durations import parse_duration
from .bodies import MAX_ROW_ID, NewToken
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.get("")
def list_tokens(hub: HubDep, who: Caller) -> dict:
    who = require_user(who)
    items = tokens.list_tokens(hub.db, who.name)
    return {"items": [{**t, "current": t["id"] == who.token_id} for t in items]}


@router.post("", status_code=201)
async def create_token(hub: HubDep, who: Caller, body: NewToken | None = None) -> dict:
    who = require_user(who)
    body = body or NewToken()
    scope, name = body.scope, body.name
    tokens.check_mintable(who.scope, scope)
    expires = body.expires_in
    lifetime = tokens.capped_lifetime(parse_duration(expires) if expires is not None else None, who.expires_at)
    info, plain = await run_in_threadpool(
        tokens.issue_token, hub.db, who.name, scope, (), expires_in=lifetime, name=name
    )
    return {**info, "token": plain}


@router.delete("/{token_id}", status_code=204)
def revoke_token(hub: HubDep, who: Caller, token_id: int = Path(ge=1, le=MAX_ROW_ID)) -> Response:
    who = require_user(who)
    if who.scope == "read" and token_id != who.token_id:
        raise Forbidden("a 'read' token can revoke only itself; revoking other tokens needs a write token")
    tokens.revoke_token(hub.db, who.name, token_id)
    return Response(status_code=204)

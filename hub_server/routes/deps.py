"""Request-scoped dependencies shared by the native routes: the app's ``Hub`` and the
caller (``Principal`` or None), as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from ..services.auth import Principal, authenticate, bearer
from ..services.context import Hub


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


async def get_principal(request: Request) -> Principal | None:
    token = bearer(request.headers.get("authorization"))
    who = await run_in_threadpool(authenticate, request.app.state.hub.db, token) if token else None
    request.state.user = who.name if who is not None else None  # for the access log
    return who


HubDep = Annotated[Hub, Depends(get_hub)]
Caller = Annotated[Principal | None, Depends(get_principal)]

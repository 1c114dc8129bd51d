"""Accounts in the browser: sign up (unless ``HUB_OPEN_SIGNUP=0``), sign in, sign out, and the
settings page that creates, lists and revokes access tokens — the same tokens ``hub login``
takes — signs the user out of every browser, and shows the user's webhooks with their delivery log."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..errors import ServiceError
from ..public_url import public_base
from ..services import webhooks
from ..services.accounts import sign_in, sign_up
from ..services.auth import SCOPES, create_token, list_tokens, revoke_token
from .render import page
from .routing import FormDep, HubDep, PageRoute, VisitorDep, redirect, safe_next
from .sessions import end_all_sessions, end_session, list_sessions, start_session

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/signup")
def signup_form(request: Request, hub: HubDep, visitor: VisitorDep):
    return page(request, visitor, "signup.html", open_signup=hub.settings.open_signup, error=None, name="")


@router.post("/signup")
async def signup(request: Request, hub: HubDep, visitor: VisitorDep, form: FormDep):
    name = form.get("name", "").strip()
    try:
        user_id = await hub.password_checks.hashing(
            lambda: sign_up(hub.db, name, form.get("password", ""), open_signup=hub.settings.open_signup)
        )
    except ServiceError as exc:
        return _with_headers(
            page(
                request,
                visitor,
                "signup.html",
                status=exc.status,
                open_signup=hub.settings.open_signup,
                error=exc.message,
                name=name,
            ),
            exc,
        )
    response = redirect("/settings")
    await run_in_threadpool(start_session, hub.db, request, response, user_id, hub.settings.session_days)
    return response


@router.get("/signin")
def signin_form(request: Request, visitor: VisitorDep, next: str | None = None):
    return page(request, visitor, "signin.html", error=None, name="", next=safe_next(next))


@router.post("/signin")
async def signin(request: Request, hub: HubDep, visitor: VisitorDep, form: FormDep):
    """Failed tries are limited per account and per address; password checks run a few at a time."""
    name, target = form.get("name", "").strip(), safe_next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    try:
        user_id = await hub.password_checks.sign_in(
            address, name, lambda: sign_in(hub.db, name, form.get("password", ""))
        )
    except ServiceError as exc:
        return _with_headers(
            page(request, visitor, "signin.html", status=exc.status, error=exc.message, name=name, next=target), exc
        )
    response = redirect(target)
    await run_in_threadpool(start_session, hub.db, request, response, user_id, hub.settings.session_days)
    return response


def _with_headers(response, exc: ServiceError):
    """The refusal's own headers (``Retry-After`` of a 429 or 503) on the rendered page."""
    response.headers.update(exc.headers)
    return response


@router.post("/signout")
def signout(hub: HubDep, visitor: VisitorDep, form: FormDep):
    response = redirect("/")
    end_session(hub.db, visitor, response)
    return response


def _settings(request: Request, hub, visitor, new_token: str | None = None, status: int = 200):
    who = visitor.principal
    return page(
        request,
        visitor,
        "settings.html",
        status=status,
        tokens=list_tokens(hub.db, who.name),
        sessions=list_sessions(hub.db, who.user_id),
        scopes=[s for s in SCOPES if s not in ("admin", "evaluate")],
        new_token=new_token,
        endpoint=public_base(request),
        webhooks=webhooks.with_recent_deliveries(hub, who),
    )


@router.get("/settings")
def settings(request: Request, hub: HubDep, visitor: VisitorDep):
    if visitor.principal is None:
        return redirect("/signin?next=/settings")
    return _settings(request, hub, visitor)


@router.post("/settings/tokens")
def new_token(request: Request, hub: HubDep, visitor: VisitorDep, form: FormDep):
    if visitor.principal is None:
        return redirect("/signin?next=/settings")
    scope = form.get("scope", "write")
    if scope not in ("read", "write"):
        scope = "read"
    token = create_token(hub.db, visitor.principal.name, scope)
    return _settings(request, hub, visitor, new_token=token, status=201)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke(hub: HubDep, visitor: VisitorDep, form: FormDep, token_id: int):
    if visitor.principal is None:
        return redirect("/signin?next=/settings")
    revoke_token(hub.db, visitor.principal.name, token_id)
    return redirect("/settings")


@router.post("/settings/sessions/revoke")
def sign_out_everywhere(hub: HubDep, visitor: VisitorDep, form: FormDep):
    if visitor.principal is not None:
        end_all_sessions(hub.db, visitor.principal.user_id)
    response = redirect("/")
    end_session(hub.db, visitor, response)
    return response

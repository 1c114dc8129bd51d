"""Browser sessions and CSRF, in one place.

A sign-in sets an HttpOnly, SameSite=Lax cookie holding a random id; the database keeps only
its sha256 (``web_sessions``), so signing out or "sign out everywhere" ends it at once. Every
form carries a CSRF token: the session's own for a signed-in visitor, otherwise the value of
a separate cookie (double submit), so even sign-in and sign-up forms cannot be posted from
another site."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import delete, select
from starlette.concurrency import run_in_threadpool

from ..db import Database
from ..db.models import Org, OrgMember, User, WebSession
from ..errors import Forbidden, Invalid
from ..services.auth import Principal

SESSION_COOKIE = "hub_session"
CSRF_COOKIE = "hub_csrf"
CSRF_FIELD = "csrf_token"


@dataclass
class Visitor:
    """Who is looking at a page: ``principal`` is None for anonymous visitors."""

    principal: Principal | None
    csrf: str
    session_hash: str | None = None
    set_csrf_cookie: bool = False

    @property
    def name(self) -> str | None:
        return self.principal.name if self.principal else None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def principal_of(db: Database, user_id: int) -> Principal | None:
    """The same ``Principal`` a write token of this user gives the API."""
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None or user.disabled_at is not None:
            return None
        orgs = s.scalars(
            select(Org.name).join(OrgMember, OrgMember.org_id == Org.id).where(OrgMember.user_id == user_id)
        ).all()
    return Principal(user_id=user.id, name=user.name, orgs=tuple(sorted(orgs)), scope="write")


def _load(db: Database, cookie: str | None, csrf_cookie: str | None) -> Visitor:
    if cookie:
        id_hash = _digest(cookie)
        with db.read() as s:
            row = s.get(WebSession, id_hash)
        if row is not None and _aware(row.expires_at) > _now():
            principal = principal_of(db, row.user_id)
            if principal is not None:
                return Visitor(principal, row.csrf, id_hash)
    if csrf_cookie and 20 <= len(csrf_cookie) <= 100:
        return Visitor(None, csrf_cookie)
    return Visitor(None, secrets.token_urlsafe(32), set_csrf_cookie=True)


async def visitor_of(request: Request) -> Visitor:
    """The request's visitor, looked up once and kept on ``request.state``."""
    if not hasattr(request.state, "visitor"):
        db = request.app.state.hub.db
        request.state.visitor = await run_in_threadpool(
            _load, db, request.cookies.get(SESSION_COOKIE), request.cookies.get(CSRF_COOKIE)
        )
    return request.state.visitor


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after its CSRF token matched the visitor's; otherwise 403, nothing done."""
    visitor = await visitor_of(request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or visitor.set_csrf_cookie or not hmac.compare_digest(sent, visitor.csrf):
        raise Forbidden("this form has no valid CSRF token; reload the page and try again")
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if any("\x00" in v for v in values.values()):
        raise Invalid("NUL characters are not allowed in a form")
    return values


def _cookie(response: Response, request: Request, key: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        key, value, max_age=max_age, httponly=True, samesite="lax", path="/", secure=request.url.scheme == "https"
    )


def remember_csrf(request: Request, response: Response, visitor: Visitor) -> None:
    """Give an anonymous visitor the cookie their forms' CSRF token is checked against."""
    if visitor.set_csrf_cookie:
        _cookie(response, request, CSRF_COOKIE, visitor.csrf, None)


def start_session(db: Database, request: Request, response: Response, user_id: int, days: int) -> None:
    """Sign the browser in as ``user_id``: a fresh session id and CSRF token (never reuse the old ones)."""
    session_id = secrets.token_urlsafe(32)
    with db.write() as s:
        s.add(
            WebSession(
                id_hash=_digest(session_id),
                user_id=user_id,
                csrf=secrets.token_urlsafe(32),
                created_at=_now(),
                expires_at=_now() + timedelta(days=days),
                user_agent=(request.headers.get("user-agent") or "")[:200],
            )
        )
    _cookie(response, request, SESSION_COOKIE, session_id, days * 86400)


def end_session(db: Database, visitor: Visitor, response: Response) -> None:
    """Sign this browser out: the row goes, so a copied cookie stops working too."""
    if visitor.session_hash:
        with db.write() as s:
            s.execute(delete(WebSession).where(WebSession.id_hash == visitor.session_hash))
    response.delete_cookie(SESSION_COOKIE, path="/")


def list_sessions(db: Database, user_id: int) -> list[WebSession]:
    with db.read() as s:
        return list(
            s.scalars(select(WebSession).where(WebSession.user_id == user_id).order_by(WebSession.created_at.desc()))
        )


def end_all_sessions(db: Database, user_id: int) -> int:
    """Sign the user out of every browser; return how many sessions ended."""
    with db.write() as s:
        return s.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount

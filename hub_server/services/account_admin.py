"""What an operator does to an account: end all of its web sessions, disable it (its tokens and
sessions stop working on the next request, sign-in is refused, its repos stay) and enable it
again. Each step is one transaction with an audit row."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ..db import Database
from ..db.models import User, WebSession, utcnow
from ..errors import NotFound
from . import audit


def _user(session, name: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.name) == str(name).lower()))
    if user is None:
        raise NotFound(f"user {name} not found")
    return user


def end_sessions(db: Database, name: str, *, actor: str = "admin") -> dict:
    """Delete every web session of ``name``; ``{"user", "ended"}``."""
    with db.write() as s:
        user = _user(s, name)
        ended = s.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0
        audit.record(s, "user.sessions_end", actor, f"user {user.name}", ended=ended)
        return {"user": user.name, "ended": ended}


def set_disabled(db: Database, name: str, disabled: bool, *, actor: str = "admin") -> dict:
    """Disable (sessions ended too) or enable ``name``; idempotent. ``{"user", "disabled", "ended"}``."""
    with db.write() as s:
        user = _user(s, name)
        ended = 0
        if disabled:
            ended = s.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0
        if (user.disabled_at is not None) != disabled:
            user.disabled_at = utcnow() if disabled else None
            audit.record(s, "user.disable" if disabled else "user.enable", actor, f"user {user.name}")
        return {"user": user.name, "disabled": disabled, "ended": ended}

"""What an operator does to an account: end all of its web sessions, disable it (its tokens and
sessions stop working on the next request, sign-in is refused, its repos stay) and enable it
again; give a user or org a display name (HF's ``fullname``) and make an org's new repos private
by default (HF's Enterprise setting). Each step is one transaction with an audit row."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from ..db import Database
from ..db.models import Org, User, WebSession, utcnow
from ..errors import Invalid, NotFound, TooLarge
from . import audit
from .names import namespace_owner

MAX_FULLNAME_CHARS = 100


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


def _fullname(value: str) -> str | None:
    """A display name: one line of printable text up to 100 characters; empty clears it."""
    value = value.strip()
    if len(value) > MAX_FULLNAME_CHARS:
        raise TooLarge(f"the display name is longer than the limit of {MAX_FULLNAME_CHARS} characters")
    if any(not c.isprintable() for c in value):
        raise Invalid("the display name must be one line of printable text")
    return value or None


def set_fullname(db: Database, name: str, fullname: str, *, actor: str = "admin") -> dict:
    """Give the user or org ``name`` a display name (``""`` clears it); ``{"account", "kind", "fullname"}``."""
    shown = _fullname(fullname)
    with db.write() as s:
        found = namespace_owner(s, str(name))
        if found is None:
            raise NotFound(f"no user or org named {str(name)[:100]}")
        kind, account = found
        account.fullname = shown
        audit.record(s, f"{kind}.fullname", actor, f"{kind} {account.name}", fullname=shown or "")
        return {"account": account.name, "kind": kind, "fullname": shown}


def set_private_by_default(db: Database, org: str, private: bool, *, actor: str = "admin") -> dict:
    """New repos of ``org`` are private unless their creator asks for public; ``{"org", "private_by_default"}``."""
    with db.write() as s:
        row = s.scalar(select(Org).where(func.lower(Org.name) == str(org).lower()))
        if row is None:
            raise NotFound(f"org {str(org)[:100]} not found")
        if row.private_by_default != private:
            row.private_by_default = private
            audit.record(s, "org.private_by_default", actor, f"org {row.name}", private=private)
        return {"org": row.name, "private_by_default": private}

"""Access tokens: minted (optionally expiring), listed and revoked. Only a sha256 of each token
is stored; a revoked or expired token is refused on the very next request on every worker,
because every request reads the token row (nothing is cached)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import Database
from ..db.models import Org, OrgMember, Token, User, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from . import audit
from .durations import parse_duration
from .names import check_name, namespace_owner

SCOPES = ("read", "write", "evaluate", "admin")  # evaluate: read + report evaluations, deliver webhooks (hub worker)
# what a token may mint: never wider than itself; an evaluator's token cannot mint a writer's
MINTABLE = {"read": ("read",), "write": ("read", "write"), "evaluate": ("read", "evaluate"), "admin": SCOPES}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def token_state(row: Token, now: datetime | None = None) -> str:
    if row.revoked_at is not None:
        return "revoked"
    expires = aware(row.expires_at)
    if expires is not None and expires <= (now or utcnow()):
        return "expired"
    return "active"


def token_json(row: Token, user: str) -> dict:
    def iso(value):
        value = aware(value)
        return value.isoformat() if value else None

    return {
        "id": row.id,
        "user": user,
        "name": row.name or "",
        "scope": row.scope,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "state": token_state(row),
    }


def issue_token(
    db: Database,
    user: str,
    scope: str = "write",
    orgs: Iterable[str] = (),
    *,
    expires_in: timedelta | str | int | None = None,
    name: str = "",
    actor: str | None = None,
) -> tuple[dict, str]:
    """Create the user (and orgs, with membership) if missing; return (token info, plain token)."""
    if scope not in SCOPES:
        raise Invalid(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    check_name(user, "user name")
    orgs = tuple(orgs)
    for org_name in orgs:
        check_name(org_name, "org name")
    if not isinstance(name, str) or len(name) > 100 or any(c in name for c in "\r\n\x00"):
        raise Invalid("token name must be one line of at most 100 characters")
    lifetime = parse_duration(expires_in) if isinstance(expires_in, (str, int)) else expires_in
    if lifetime is not None and lifetime <= timedelta(0):
        raise Invalid("a token must expire in the future")
    plain = "hub_" + secrets.token_urlsafe(32)
    now = utcnow()
    try:
        with db.write() as s:
            account = _account(s, user, "user")
            for org_name in orgs:
                org = _account(s, org_name, "org")
                if s.get(OrgMember, (org.id, account.id)) is None:
                    s.add(OrgMember(org_id=org.id, user_id=account.id))
            row = Token(
                user_id=account.id,
                token_hash=hash_token(plain),
                scope=scope,
                created_at=now,
                name=name,
                expires_at=now + lifetime if lifetime is not None else None,
            )
            s.add(row)
            s.flush()
            audit.record(
                s,
                "token.create",
                actor or user,
                f"token {row.id}",
                user=user,
                scope=scope,
                name=name,
                expires_at=row.expires_at,
            )
            info = token_json(row, account.name)
    except IntegrityError:
        raise Conflict(f"the name {user!r} was taken concurrently; try again") from None
    return info, plain


def create_token(
    db: Database,
    user: str,
    scope: str = "write",
    orgs: Iterable[str] = (),
    *,
    expires_in: timedelta | str | int | None = None,
    name: str = "",
) -> str:
    """Create the user (and orgs) if missing; return a new plain token."""
    return issue_token(db, user, scope, orgs, expires_in=expires_in, name=name)[1]


def _account(session: Session, name: str, kind: str) -> User | Org:
    """The user/org called ``name``, created if the name (in any case) is free."""
    owner = namespace_owner(session, name)
    if owner is None:
        account = User(name=name) if kind == "user" else Org(name=name)
        session.add(account)
        session.flush()
        return account
    found_kind, account = owner
    if found_kind != kind or account.name != name:
        what = "an org" if found_kind == "org" else "a user"
        raise Conflict(f"the name {name!r} is taken by {what} called {account.name!r} (names ignore case)")
    return account


def list_tokens(db: Database, user: str) -> list[dict]:
    """Every token of ``user`` (active, expired and revoked), oldest first. Never the secrets."""
    with db.read() as s:
        account = s.scalar(select(User).where(User.name == user))
        if account is None:
            raise NotFound(f"user {user} not found")
        rows = s.scalars(select(Token).where(Token.user_id == account.id).order_by(Token.id)).all()
        return [token_json(r, account.name) for r in rows]


def list_all_tokens(db: Database) -> list[dict]:
    with db.read() as s:
        rows = s.execute(select(Token, User.name).join(User, User.id == Token.user_id).order_by(Token.id)).all()
        return [token_json(t, u) for t, u in rows]


def revoke_token(db: Database, user: str | None, token_id: int, *, actor: str | None = None) -> dict:
    """Revoke ``token_id`` if it belongs to ``user`` (``None``: any user, for admins). Idempotent."""
    if not 0 < int(token_id) < 2**63:  # no row has such an id (and the database could not compare it)
        raise NotFound(f"token {token_id} not found")
    with db.write() as s:
        query = select(Token, User.name).join(User, User.id == Token.user_id).where(Token.id == int(token_id))
        if user is not None:
            query = query.where(User.name == user)
        found = s.execute(query).first()
        if found is None:
            raise NotFound(f"token {token_id} not found")
        row, owner = found
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(s, "token.revoke", actor or user or "admin", f"token {row.id}", user=owner)
        return token_json(row, owner)


def capped_lifetime(requested: timedelta | None, caller_expires: datetime | None) -> timedelta | None:
    """A token minted with another token never outlives it."""
    caller_expires = aware(caller_expires)
    if caller_expires is None:
        return requested
    left = caller_expires - utcnow()
    return left if requested is None or requested > left else requested


def check_mintable(caller_scope: str, wanted: str) -> None:
    if wanted not in SCOPES:
        raise Invalid(f"unknown scope {wanted!r}; choose one of {', '.join(SCOPES)}")
    if wanted not in MINTABLE.get(caller_scope, ()):
        raise Forbidden(f"a {caller_scope!r} token cannot create a {wanted!r} token")

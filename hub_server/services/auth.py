"""Tokens and permissions: tokens are stored only as sha256 hashes and carry one scope
(read < write < admin); a user may write to their own namespace and their orgs'."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from ..db import Database
from ..db.models import Org, OrgMember, Repo, Token, User
from ..errors import Forbidden, Invalid, NotFound, Unauthorized

SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    orgs: tuple[str, ...]
    scope: str

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    def owns(self, namespace: str) -> bool:
        return self.is_admin or namespace == self.name or namespace in self.orgs

    def can_write(self, namespace: str) -> bool:
        return self.scope in ("write", "admin") and self.owns(namespace)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Database, user: str, scope: str = "write", orgs: Iterable[str] = ()) -> str:
    """Create the user (and orgs, with membership) if missing; return a new plain token."""
    if scope not in SCOPES:
        raise Invalid(f"unknown scope {scope!r}; choose one of {', '.join(SCOPES)}")
    from .names import check_name

    check_name(user, "user name")
    token = "hub_" + secrets.token_urlsafe(32)
    with db.write() as s:
        account = s.scalar(select(User).where(User.name == user)) or User(name=user)
        s.add(account)
        s.flush()
        for org_name in orgs:
            check_name(org_name, "org name")
            org = s.scalar(select(Org).where(Org.name == org_name)) or Org(name=org_name)
            s.add(org)
            s.flush()
            if s.get(OrgMember, (org.id, account.id)) is None:
                s.add(OrgMember(org_id=org.id, user_id=account.id))
        s.add(Token(user_id=account.id, token_hash=hash_token(token), scope=scope))
    return token


def authenticate(db: Database, token: str | None) -> Principal | None:
    """``None`` for anonymous callers; a token that matches nothing is a 401."""
    if not token:
        return None
    with db.read() as s:
        row = s.execute(
            select(Token.scope, User.id, User.name).join(User, User.id == Token.user_id)
            .where(Token.token_hash == hash_token(token))
        ).first()
        if row is None:
            raise Unauthorized("invalid or revoked token")
        orgs = s.scalars(
            select(Org.name).join(OrgMember, OrgMember.org_id == Org.id).where(OrgMember.user_id == row.id)
        ).all()
    return Principal(user_id=row.id, name=row.name, orgs=tuple(sorted(orgs)), scope=row.scope)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    kind, _, value = header.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    return value.strip()


def require_user(who: Principal | None) -> Principal:
    if who is None:
        raise Unauthorized("this call needs a token (hub login)")
    return who


def require_write(who: Principal | None, namespace: str | None = None) -> Principal:
    who = require_user(who)
    if who.scope not in ("write", "admin"):
        raise Forbidden(f"token scope {who.scope!r} cannot write; create a token with --scope write")
    if namespace is not None and not who.owns(namespace):
        raise Forbidden(f"{who.name} may not write to namespace {namespace!r}")
    return who


def can_see(who: Principal | None, repo: Repo) -> bool:
    return not repo.private or (who is not None and who.owns(repo.namespace))


def list_tokens(db: Database, user: str) -> list[dict]:
    """The user's tokens, newest first: id, scope and creation time (never the token itself)."""
    with db.read() as s:
        rows = s.execute(select(Token.id, Token.scope, Token.created_at).join(User, User.id == Token.user_id)
                         .where(User.name == user).order_by(Token.id.desc())).all()
    return [{"id": r.id, "scope": r.scope, "created_at": r.created_at} for r in rows]


def revoke_token(db: Database, user: str, token_id: int) -> None:
    """Delete one of the user's tokens; someone else's token is as unknown as a missing one."""
    with db.write() as s:
        row = s.scalar(select(Token).join(User, User.id == Token.user_id)
                       .where(Token.id == token_id, User.name == user))
        if row is None:
            raise NotFound(f"token {token_id} not found")
        s.delete(row)

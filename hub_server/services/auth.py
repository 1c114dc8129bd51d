"""Who is calling and what they may do: a token (stored only as a sha256 hash, see tokens.py)
carries one scope (read < write < admin; evaluate = read + report evaluations + deliver webhooks: ``hub worker``) and is checked against its row on every request;
a user may write to their own namespace and their orgs'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hub_rules import BearerInvalid, parse_bearer

from ..db import Database
from ..db.models import Org, OrgMember, Repo, Token, User, utcnow
from ..errors import Forbidden, Unauthorized
from .tokens import SCOPES, aware, create_token, hash_token, list_tokens, revoke_token

__all__ = [
    "SCOPES",
    "Principal",
    "authenticate",
    "bearer",
    "can_see",
    "create_token",
    "hash_token",
    "list_tokens",
    "require_user",
    "require_write",
    "revoke_token",
]


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    orgs: tuple[str, ...]
    scope: str
    token_id: int | None = None
    expires_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.scope == "admin"

    def owns(self, namespace: str) -> bool:
        return self.is_admin or namespace == self.name or namespace in self.orgs


def authenticate(db: Database, token: str | None) -> Principal | None:
    """``None`` for anonymous callers; a token that matches nothing is a 401."""
    if not token:
        return None
    with db.read() as s:
        row = s.execute(
            select(
                Token.id.label("token_id"),
                Token.scope,
                Token.expires_at,
                Token.revoked_at,
                User.id,
                User.name,
                User.disabled_at,
            )
            .join(User, User.id == Token.user_id)
            .where(Token.token_hash == hash_token(token))
        ).first()
        if row is None:
            raise Unauthorized("invalid or revoked token")
        if row.revoked_at is not None:
            raise Unauthorized("token revoked")
        if row.disabled_at is not None:
            raise Unauthorized(f"the account {row.name} is disabled; ask an administrator")
        expires = aware(row.expires_at)
        if expires is not None and expires <= utcnow():
            raise Unauthorized(f"token expired at {expires.isoformat(timespec='seconds')}")
        orgs = s.scalars(
            select(Org.name).join(OrgMember, OrgMember.org_id == Org.id).where(OrgMember.user_id == row.id)
        ).all()
    return Principal(
        user_id=row.id,
        name=row.name,
        orgs=tuple(sorted(orgs)),
        scope=row.scope,
        token_id=row.token_id,
        expires_at=expires,
    )


def token_is_valid(db: Database, token: str) -> bool:
    """Whether ``token`` would authenticate now (known, not revoked, not expired)."""
    try:
        return authenticate(db, token) is not None
    except Unauthorized:
        return False


def bearer(header: str | None) -> str | None:
    """The shared reading of the header (``hub_rules.parse_bearer``), a 401 when it is not one."""
    try:
        return parse_bearer(header)
    except BearerInvalid as exc:
        raise Unauthorized(str(exc)) from None


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

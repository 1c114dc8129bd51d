"""The Xet access tokens that ``xet-write-token`` hands to ``hf_xet`` for the hub's CAS routes
(``xet_cas``): random, stored only as a sha256 (like hub tokens), bound to one user and one repo
the user may write to, and valid for an hour at most. Each is tied to the hub token that asked
for it, so revoking that token, its expiry, disabling the account or deleting the repo ends it at
once. The rows live in the database, so a token issued by one host works on every other."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from ..db.models import Repo, Token, User, XetToken, utcnow
from ..errors import Unauthorized
from .auth import Principal, bearer
from .context import Hub
from .tokens import aware, hash_token, token_state

TOKEN_SECONDS = 3600
_PREFIX = "xet_"


@dataclass(frozen=True)
class XetGrant:
    """What a CAS request may do: upload for ``user`` towards repo ``repo_id`` of ``namespace``."""

    user_id: int
    user: str
    repo_id: int
    namespace: str


def issue(hub: Hub, who: Principal, repo: Repo) -> tuple[str, int]:
    """A new token for ``who`` on ``repo`` (write rights already checked) and its expiry (epoch s)."""
    token = _PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(seconds=TOKEN_SECONDS)
    if who.expires_at is not None:
        expires = min(expires, aware(who.expires_at) or expires)
    with hub.db.write() as s:
        s.execute(delete(XetToken).where(XetToken.expires_at < now - timedelta(seconds=TOKEN_SECONDS)))
        s.add(
            XetToken(
                token_hash=hash_token(token),
                user_id=who.user_id,
                repo_id=repo.id,
                token_id=who.token_id,
                expires_at=expires,
            )
        )
    return token, int(expires.timestamp())


def check(hub: Hub, authorization: str | None) -> XetGrant:
    """The grant of the request's ``Authorization: Bearer`` Xet token; 401 with one line otherwise."""
    token = bearer(authorization)
    if not token:
        raise Unauthorized("this call needs a Xet access token (GET .../xet-write-token/{revision})")
    if not token.startswith(_PREFIX):
        raise Unauthorized("not a Xet access token: ask xet-write-token for one")
    with hub.db.read() as s:
        row = s.execute(
            select(
                XetToken.expires_at,
                XetToken.token_id,
                User.id.label("user_id"),
                User.name,
                User.disabled_at,
                Repo.id.label("repo_id"),
                Repo.namespace,
            )
            .join(User, User.id == XetToken.user_id)
            .join(Repo, Repo.id == XetToken.repo_id)
            .where(XetToken.token_hash == hash_token(token))
        ).first()
        parent = s.get(Token, row.token_id) if row is not None and row.token_id is not None else None
    if row is None:
        raise Unauthorized("invalid Xet access token: ask xet-write-token for a new one")
    expires = aware(row.expires_at)
    if expires is None or expires <= utcnow():
        raise Unauthorized("Xet access token expired: ask xet-write-token for a new one")
    if row.disabled_at is not None:
        raise Unauthorized(f"the account {row.name} is disabled; ask an administrator")
    if parent is not None and token_state(parent) != "active":
        raise Unauthorized(f"the hub token this Xet access token was issued for is {token_state(parent)}")
    return XetGrant(user_id=row.user_id, user=row.name, repo_id=row.repo_id, namespace=row.namespace)

"""The one reading of an ``Authorization`` header: ``Bearer <token>`` (scheme in any case,
spaces around the token ignored). The server's authentication and its rate limiter both key on
what this returns, so they always agree on which token a request carries."""

from __future__ import annotations

from .errors import BearerInvalid


def parse_bearer(header: str | None) -> str | None:
    """The token, ``None`` when there is no header, ``BearerInvalid`` for any other scheme or an empty token."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    token = value.strip()
    if scheme.lower() != "bearer" or not token or any(c.isspace() for c in token):
        raise BearerInvalid("expected 'Authorization: Bearer <token>'")
    return token

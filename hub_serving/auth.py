"""``--require-token``: a caller's bearer token must be one the hub accepts (``GET /api/v1/whoami``).

Why ask the hub: the model server keeps no users; the hub's tokens are the accounts. An accepted token is
trusted for ``token_check_seconds`` (kept as a SHA-256, never the token itself), a refused one is not kept.
"""

from __future__ import annotations

import hashlib
import threading
import time

from .errors import ServeError


class TokenChecker:
    def __init__(self, endpoint: str | None, ttl: float = 60.0):
        self.endpoint = endpoint
        self.ttl = ttl
        self._ok: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def check(self, authorization: str | None) -> str:
        """The caller's hub user name, or a 401."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ServeError(
                401,
                "this server requires a hub token: send 'Authorization: Bearer <token>'",
                type="authentication_error",
                code="missing_token",
            )
        key = hashlib.sha256(token.strip().encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            seen = self._ok.get(key)
        if seen is not None and now - seen[0] < self.ttl:
            return seen[1]
        from hub_client import HubClient, HubError, TransportError

        try:
            with HubClient(self.endpoint, token.strip(), progress=False, timeout=10.0) as client:
                user = client.whoami().get("user")
        except TransportError as exc:
            raise ServeError(
                502,
                f"the hub could not be reached to check the token: {exc}",
                type="server_error",
                code="hub_unreachable",
            ) from None
        except HubError:
            user = None
        if not user:
            raise ServeError(
                401, "the hub does not accept this token", type="authentication_error", code="invalid_token"
            )
        with self._lock:
            self._ok[key] = (now, str(user))
        return str(user)

"""Request rates and per-day byte quotas with the ``limits`` library: one limiter whose
counters live in process (``memory://``) or in Redis (``HUB_REDIS_URL``), so every worker
and host shares the same buckets.

Buckets: reads and writes per token (per client address when anonymous), auth failures
per client address (refusing bad tokens only: a valid token from a locked address still works), uploaded bytes per user per day. A refusal carries the seconds until
the bucket has room again (``Retry-After``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerSecond, parse
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from hub_rules import BearerInvalid, parse_bearer

from ..errors import TooManyRequests
from ..settings import Settings

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Refusal:
    message: str
    retry_after: int


def storage_uri(redis_url: str | None) -> str:
    if not redis_url:
        return "async+memory://"
    return redis_url if redis_url.startswith("async+") else "async+" + redis_url


def caller_key(authorization: str | None, address: str) -> str:
    """A token's bucket key (a hash prefix, never the token) or the client address."""
    try:
        token = parse_bearer(authorization)
    except BearerInvalid:
        token = None
    if token:
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return "addr:" + address


class RateLimits:
    """The hub's buckets; every method fails open (logs) when the counter store is down."""

    def __init__(self, settings: Settings) -> None:
        options = {"implementation": "redispy"} if settings.redis_url else {}
        storage = storage_from_string(storage_uri(settings.redis_url), **options)
        self.enabled = settings.rate_limits
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.prefix = settings.rate_key_prefix
        self.read: RateLimitItem = parse(settings.rate_read)
        self.write: RateLimitItem = parse(settings.rate_write)
        self.auth_failures: RateLimitItem = parse(settings.rate_auth_failures)
        self.upload_bytes: RateLimitItem = RateLimitItemPerDay(max(1, settings.max_upload_bytes_per_day))
        self.once = FixedWindowRateLimiter(storage)
        # set by create_app: whether a token is valid (so an address's lockout never refuses it)
        self.valid_token: Callable[[str], Awaitable[bool]] | None = None

    async def admit(self, method: str, authorization: str | None, address: str) -> Refusal | None:
        """Count one request of this caller; a refusal when its bucket (or its address's
        auth-failure bucket, for a request carrying a token) is empty."""
        if not self.enabled:
            return None
        try:
            if (
                authorization
                and not await self.limiter.test(self.auth_failures, self.prefix, "authfail", address)
                and not await self._valid(authorization)
            ):
                # the address is locked out for bad tokens; a valid token still works (NAT, proxies)
                return Refusal(
                    "too many failed logins from this address; wait before trying again",
                    await self._retry_after(self.auth_failures, "authfail", address),
                )
            item, kind = (self.read, "read") if method in SAFE_METHODS else (self.write, "write")
            key = caller_key(authorization, address)
            if not await self.limiter.hit(item, self.prefix, kind, key):
                return Refusal(
                    f"too many {kind} requests (limit {item}); slow down", await self._retry_after(item, kind, key)
                )
        except Exception:
            log.exception("rate limiter unavailable; request admitted")
        return None

    async def _valid(self, authorization: str) -> bool:
        try:
            token = parse_bearer(authorization)
        except BearerInvalid:
            return False
        return bool(token) and self.valid_token is not None and await self.valid_token(token)

    async def first_in_window(self, seconds: int, *keys: str) -> bool:
        """True the first time ``keys`` are seen in a window of ``seconds`` (always when 0, or when
        the counter store is down), on every worker and host that share the store."""
        if seconds <= 0:
            return True
        try:
            return await self.once.hit(RateLimitItemPerSecond(1, seconds), self.prefix, "once", *keys)
        except Exception:
            log.exception("rate limiter unavailable; counted")
            return True

    async def auth_failed(self, address: str) -> None:
        if self.enabled:
            try:
                await self.limiter.hit(self.auth_failures, self.prefix, "authfail", address)
            except Exception:
                log.exception("rate limiter unavailable")

    async def charge_upload(self, user: str, nbytes: int) -> None:
        """Count ``nbytes`` against the user's bytes per day; 429 when they do not fit."""
        if nbytes <= 0:
            return
        try:
            allowed = await self.limiter.hit(self.upload_bytes, self.prefix, "bytes", user, cost=nbytes)
        except Exception:
            log.exception("rate limiter unavailable; upload admitted")
            return
        if not allowed:
            raise TooManyRequests(
                f"{user} has used the {self.upload_bytes.amount}-byte daily upload quota",
                await self._retry_after(self.upload_bytes, "bytes", user),
            )

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self.limiter.get_window_stats(item, self.prefix, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

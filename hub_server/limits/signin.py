"""Web sign-in against guessing and against memory exhaustion. Failed sign-ins are counted per
account (whatever address they come from) and per client address with the ``limits`` buckets
the rest of the hub uses; a full bucket refuses further tries with 429 and Retry-After until its
window frees room (the backoff). Every password hash (argon2, 64 MiB each) runs under a host-wide
semaphore: a sign-in that cannot get a slot within a short wait gets 503 with Retry-After instead
of queueing its memory behind the others."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
from limits import parse
from starlette.concurrency import run_in_threadpool

from ..errors import TooManyRequests, Unauthorized, Unavailable
from ..settings import Settings
from .rates import RateLimits

log = logging.getLogger(__name__)
T = TypeVar("T")


class PasswordChecks:
    def __init__(self, settings: Settings, rates: RateLimits) -> None:
        self.rates = rates
        self.per_account = parse(settings.signin_failures_per_account)
        self.per_address = parse(settings.signin_failures_per_address)
        self.slots = max(1, settings.max_concurrent_password_checks)
        self.wait = settings.password_check_wait_seconds
        self._semaphore: anyio.Semaphore | None = None

    async def hashing(self, work: Callable[[], T]) -> T:
        """Run ``work`` (which hashes a password) in a worker thread once a slot is free."""
        if self._semaphore is None:
            self._semaphore = anyio.Semaphore(self.slots)
        try:
            with anyio.fail_after(self.wait):
                await self._semaphore.acquire()
        except TimeoutError:
            raise Unavailable(
                "too many sign-ins are being checked right now; try again in a few seconds", retry_after=2
            ) from None
        try:
            return await run_in_threadpool(work)
        finally:
            self._semaphore.release()

    async def sign_in(self, address: str, name: str, check: Callable[[], T]) -> T:
        """``check()`` verifies the password (raising ``Unauthorized``); failures are counted."""
        account = name.strip().lower()[:100]
        await self._refuse_when_full(address, account)
        try:
            return await self.hashing(check)
        except Unauthorized:
            await self._count_failure(address, account)
            raise

    async def _refuse_when_full(self, address: str, account: str) -> None:
        if not self.rates.enabled:
            return
        limiter, prefix = self.rates.limiter, self.rates.prefix
        for item, kind, key, whom in (
            (self.per_account, "signin-account", account, "this account"),
            (self.per_address, "signin-address", address, "this address"),
        ):
            try:
                full = not await limiter.test(item, prefix, kind, key)
                stats = await limiter.get_window_stats(item, prefix, kind, key) if full else None
            except Exception:
                log.exception("sign-in limiter unavailable; attempt admitted")
                return
            if full:
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    f"too many failed sign-ins for {whom} (limit {item}); try again in {wait} s", retry_after=wait
                )

    async def _count_failure(self, address: str, account: str) -> None:
        if not self.rates.enabled:
            return
        try:
            await self.rates.limiter.hit(self.per_account, self.rates.prefix, "signin-account", account)
            await self.rates.limiter.hit(self.per_address, self.rates.prefix, "signin-address", address)
        except Exception:
            log.exception("sign-in limiter unavailable")

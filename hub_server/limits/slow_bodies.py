"""Request bodies that arrive slowly must not hold a worker thread. A blob chunk is read on the
event loop into bounded segments (a spooled temporary file: a little memory, then disk) and only
a segment that has fully arrived goes to a worker thread to be stored. Reading enforces a minimum
body rate (after a grace period), and each account has a bounded number of bodies in flight on a
host, so one account can neither exhaust the thread pool nor pin an unbounded set of connections."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import IO

import anyio
from starlette.concurrency import run_in_threadpool

from ..errors import BodyTooSlow, TooLarge, TooManyRequests
from ..settings import Settings

_IN_MEMORY = 1024 * 1024  # per segment; the rest of a segment is spooled to a temporary file
_CHARGE_STEP = 1024 * 1024


class BodySlots:
    """Per-account count of request bodies being read on this host (``HUB_MAX_CONCURRENT_UPLOADS``).

    It also learns which account each credential belongs to (a hash of the ``Authorization`` header, seen at
    ``hold``), so the limits middleware can refuse a known credential whose account is at its limit before
    the request costs a token or upload-session lookup (``refusal``): a stream of refused connections from
    one token then costs other users next to nothing."""

    _REMEMBERED = 10_000

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self._accounts: dict[str, str] = {}

    def _full(self, account: str) -> TooManyRequests | None:
        if self._open[account] < self.limit:
            return None
        return TooManyRequests(
            f"{account} already sends {self.limit} upload bodies at once; wait for one to finish", retry_after=5
        )

    def refusal(self, credential: str) -> TooManyRequests | None:
        """The 429 for this credential's account when it is known and at its limit, else None."""
        account = self._accounts.get(_credential_key(credential))
        return None if account is None else self._full(account)

    @contextmanager
    def hold(self, account: str, credential: str | None = None) -> Iterator[None]:
        if credential:
            if len(self._accounts) >= self._REMEMBERED:
                self._accounts.clear()
            self._accounts[_credential_key(credential)] = account
        refused = self._full(account)
        if refused is not None:
            raise refused
        self._open[account] += 1
        try:
            yield
        finally:
            self._open[account] -= 1
            if not self._open[account]:
                del self._open[account]


def _credential_key(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


class BodySegments:
    """The body as successive segments of at most ``segment_bytes``, each a rewound file object.

    Network waits are timed on the event loop: after ``grace`` seconds the body must keep up with
    ``min_rate`` bytes per second on average (time spent storing earlier segments is not counted),
    or ``BodyTooSlow`` (408) ends the request. ``charge(n)`` is awaited for every MiB received."""

    def __init__(
        self, chunks: AsyncIterable[bytes], settings: Settings, charge: Callable[[int], Awaitable[None]] | None = None
    ) -> None:
        self._chunks: AsyncIterator[bytes] = chunks.__aiter__()
        self._segment_bytes = max(1, settings.upload_segment_bytes)
        self._min_rate, self._grace = settings.min_body_rate, settings.body_grace_seconds
        self._charge, self._uncharged = charge, 0
        self._leftover = b""
        self._done = False
        self.received = 0
        self._waited = 0.0

    async def _next_chunk(self) -> bytes | None:
        allowed = self._grace + (self.received / self._min_rate if self._min_rate > 0 else float("inf"))
        began = time.monotonic()
        try:
            with anyio.fail_after(max(0.0, allowed - self._waited)):
                chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise BodyTooSlow(
                f"request body arrived slower than {self._min_rate} bytes per second "
                f"({self.received} bytes received); send it faster"
            ) from None
        finally:
            self._waited += time.monotonic() - began
        self.received += len(chunk)
        self._uncharged += len(chunk)
        if self._charge is not None and self._uncharged >= _CHARGE_STEP:
            await self._charge(self._uncharged)
            self._uncharged = 0
        return chunk

    async def next(self) -> IO[bytes] | None:
        """The next segment (None once the body is over and nothing is left)."""
        spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - handed to the caller, who closes it
        size = 0
        if self._leftover:
            spool.write(self._leftover[: self._segment_bytes])
            size, self._leftover = min(len(self._leftover), self._segment_bytes), self._leftover[self._segment_bytes :]
        while size < self._segment_bytes and not self._done:
            chunk = await self._next_chunk()
            if chunk is None:
                self._done = True
                break
            room = self._segment_bytes - size
            spool.write(chunk[:room])
            size += min(room, len(chunk))
            self._leftover = chunk[room:]
        if self._done and self._charge is not None and self._uncharged:
            await self._charge(self._uncharged)
            self._uncharged = 0
        if size == 0:
            spool.close()
            return None
        spool.seek(0)
        return spool


async def spool_body(
    chunks: AsyncIterable[bytes], settings: Settings, limit: int, charge: Callable[[int], Awaitable[None]] | None = None
) -> tuple[IO[bytes], int]:
    """A whole body (at most ``limit`` bytes) in one rewound spooled file, read as ``BodySegments``
    reads (minimum rate, charged); the caller closes it."""
    spool = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY)  # noqa: SIM115 - handed to the caller, who closes it
    body, size = BodySegments(chunks, settings, charge), 0
    try:
        while (segment := await body.next()) is not None:
            with segment:
                await run_in_threadpool(shutil.copyfileobj, segment, spool)
            size = spool.tell()
            if size > limit:
                raise TooLarge(f"request body larger than {limit} bytes")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size

"""OCI-style resumable upload sessions, with no state on the host: the session is a row in
the database and every chunk is a part in the blob store, so any host continues, resumes or
finishes any session. Appends compare-and-set the received byte count; finishing hashes the
parts and only a matching digest stores the blob. Stale sessions are swept away."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterable, Callable
from datetime import datetime, timezone

import anyio.from_thread
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from ..db.models import Blob, UploadSession
from ..errors import DigestMismatch, Invalid, NotFound, RangeNotSatisfiable
from ..limits.quotas import check_open_uploads
from ..storage.base import check_digest
from .auth import Principal, require_write
from .blobs import blob_size, record_blob  # noqa: F401 - blob_size is part of this module's API
from .context import Hub

_CHARGE_STEP = 1024 * 1024
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_SWEEP_EVERY = 300.0  # seconds between two sweeps of stale sessions by one process


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _session(hub: Hub, who: Principal, upload_id: str) -> UploadSession:
    if not _ID_RE.fullmatch(upload_id):
        raise NotFound(f"upload {upload_id} not found")
    with hub.db.read() as s:
        row = s.get(UploadSession, upload_id)
    if row is None or row.user_name != who.name:
        raise NotFound(f"upload {upload_id} not found")
    return row


def start(hub: Hub, who: Principal | None) -> dict:
    who = require_write(who)
    if time.monotonic() - hub.last_cleanup > _SWEEP_EVERY:
        cleanup_stale(hub)
    check_open_uploads(open_sessions(hub, who.name), hub.settings)
    upload_id = uuid.uuid4().hex
    with hub.db.write() as s:
        s.add(UploadSession(id=upload_id, user_name=who.name, received=0, parts="[]"))
    return {"upload_id": upload_id, "offset": 0}


def open_sessions(hub: Hub, user: str) -> int:
    """How many upload sessions ``user`` has open (capped by ``HUB_MAX_OPEN_UPLOADS``)."""
    with hub.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(UploadSession).where(UploadSession.user_name == user)))


def status(hub: Hub, who: Principal | None, upload_id: str) -> dict:
    return {"upload_id": upload_id, "offset": _session(hub, require_write(who), upload_id).received}


def parse_content_range(header: str | None, offset: int) -> tuple[int, int | None]:
    """(start, declared end or None). No header means "append at the current offset"."""
    if header is None:
        return offset, None
    m = _RANGE_RE.fullmatch(header.strip())
    if not m:
        raise Invalid(f"bad Content-Range {header!r}: expected 'bytes START-END/*'")
    start, end = int(m.group(1)), int(m.group(2))
    if end < start:
        raise Invalid(f"bad Content-Range {header!r}: END before START")
    return start, end


def _out_of_order(start: int, offset: int) -> RangeNotSatisfiable:
    error = RangeNotSatisfiable(f"chunk starts at {start} but the upload is at {offset}", offset=offset)
    error.headers["Upload-Offset"] = str(offset)
    return error


async def append(hub: Hub, who: Principal | None, upload_id: str, content_range: str | None,
                 chunks: AsyncIterable[bytes]) -> dict:
    """Append one chunk; a START other than the current offset is a 416 carrying the offset."""
    who = require_write(who)
    row = await run_in_threadpool(_session, hub, who, upload_id)
    start, end = parse_content_range(content_range, row.received)
    if start != row.received:
        raise _out_of_order(start, row.received)
    offset = await run_in_threadpool(_append_part, hub, who, row, end, _BodyReader(chunks, _charger(hub, who.name)))
    return {"upload_id": upload_id, "offset": offset}


def _append_part(hub: Hub, who: Principal, row: UploadSession, end: int | None, body: "_BodyReader") -> int:
    """Store the body as the next part, then move ``received`` forward only if nobody else did."""
    start, name = row.received, f"{row.received:016d}-{uuid.uuid4().hex[:8]}"
    size = hub.store.put_part(row.id, name, body, hub.settings.max_file_bytes - start)
    if end is not None and size != end - start + 1:
        hub.store.delete_parts(row.id, [name])
        raise Invalid(f"chunk carried {size} bytes but Content-Range announced {end - start + 1}; discarded")
    if size == 0:
        hub.store.delete_parts(row.id, [name])
        return start
    parts = json.dumps([*json.loads(row.parts), name])
    with hub.db.write() as s:
        moved = s.execute(
            update(UploadSession)
            .where(UploadSession.id == row.id, UploadSession.received == start)
            .values(received=start + size, parts=parts, updated_at=_now())
        ).rowcount
    if moved != 1:  # another request appended (or the session was cancelled) meanwhile
        hub.store.delete_parts(row.id, [name])
        raise _out_of_order(start, _session(hub, who, row.id).received)
    return start + size


async def finish(hub: Hub, who: Principal | None, upload_id: str, digest: str | None,
                 chunks: AsyncIterable[bytes]) -> dict:
    """Append the optional last chunk, then verify and store (hashing runs off the event loop)."""
    who = require_write(who)
    if not digest:
        raise Invalid("finishing an upload needs ?digest=sha256:<hex>")
    check_digest(digest)
    row = await run_in_threadpool(_session, hub, who, upload_id)
    await run_in_threadpool(_append_part, hub, who, row, None, _BodyReader(chunks, _charger(hub, who.name)))
    return await run_in_threadpool(_complete, hub, who, upload_id, digest)


def _complete(hub: Hub, who: Principal, upload_id: str, digest: str) -> dict:
    row = _session(hub, who, upload_id)
    try:
        actual, size = hub.store.commit_parts(upload_id, json.loads(row.parts), digest)
    except DigestMismatch as error:
        _forget(hub, upload_id)
        raise DigestMismatch(error.message.replace("content hashes", "uploaded bytes hash")) from None
    record_blob(hub, actual, size, who.name)
    _forget(hub, upload_id)
    return {"digest": actual, "size": size}


def _forget(hub: Hub, upload_id: str) -> None:
    with hub.db.write() as s:
        s.execute(delete(UploadSession).where(UploadSession.id == upload_id))
    hub.store.delete_parts(upload_id)


def cancel(hub: Hub, who: Principal | None, upload_id: str) -> None:
    _session(hub, require_write(who), upload_id)
    _forget(hub, upload_id)


def cleanup_stale(hub: Hub, now: float | None = None) -> int:
    """Drop sessions untouched for longer than the TTL with their parts, parts whose session is
    gone, and abandoned temporary writes in the store (S3 multipart uploads); return how many
    sessions went. Safe to run on every host at once."""
    hub.last_cleanup = time.monotonic()
    now = time.time() if now is None else now
    cutoff = now - hub.settings.upload_ttl_seconds
    cutoff_dt = datetime.fromtimestamp(cutoff, timezone.utc)
    with hub.db.write() as s:
        stale = list(s.scalars(select(UploadSession.id).where(UploadSession.updated_at < cutoff_dt)))
        if stale:
            s.execute(delete(UploadSession).where(UploadSession.id.in_(stale)))
    for upload_id in stale:
        hub.store.delete_parts(upload_id)
    with hub.db.read() as s:
        alive = set(s.scalars(select(UploadSession.id)))
    for session, newest in list(hub.store.staged_sessions()):
        if session not in alive and newest < cutoff:
            hub.store.delete_parts(session)
    hub.store.abort_stale(cutoff)
    return len(stale)


def _charger(hub: Hub, user: str) -> Callable[[int], None] | None:
    """Charge arriving bytes to the user's daily upload allowance (from the store's worker thread)."""
    if hub.limits is None:
        return None
    return lambda nbytes: anyio.from_thread.run(hub.limits.charge_upload, user, nbytes)


class _BodyReader:
    """A file-like view of the request body for store code running in a worker thread: each read
    pulls the next chunks from the event loop, so a large chunk never sits in memory whole."""

    def __init__(self, chunks: AsyncIterable[bytes], charge: Callable[[int], None] | None = None) -> None:
        self._chunks = chunks.__aiter__()
        self._buffer = bytearray()
        self._done = False
        self._charge, self._uncharged = charge, 0

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            try:
                chunk = anyio.from_thread.run(self._chunks.__anext__)
            except StopAsyncIteration:
                self._done = True
                chunk = b""
            self._buffer += chunk
            self._uncharged += len(chunk)
            if self._charge is not None and self._uncharged and (self._done or self._uncharged >= _CHARGE_STEP):
                self._charge(self._uncharged)  # the user's bytes per day, a MiB at a time
                self._uncharged = 0
        size = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

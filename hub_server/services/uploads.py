"""OCI-style resumable upload sessions, with no state on the host: the session is a row in
the database and every chunk is a part in the blob store, so any host continues, resumes or
finishes any session. Appends compare-and-set the received byte count; finishing hashes the
parts and only a matching digest stores the blob. Stale sessions are swept away."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable
from datetime import UTC, datetime

import anyio
from sqlalchemy import delete, func, select, update
from starlette.concurrency import run_in_threadpool

from hub_rules import parse_content_range as rules_content_range

from ..db.models import UploadSession
from ..errors import DigestMismatch, Invalid, NotFound, RangeNotSatisfiable
from ..limits.quotas import check_open_uploads, check_upload_quota
from ..limits.slow_bodies import BodySegments, BodySlots
from ..storage.base import BlobNotFound, check_digest
from .auth import Principal, require_write
from .blobs import blob_size, record_blob  # noqa: F401 - blob_size is part of this module's API
from .context import Hub

_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_SWEEP_EVERY = 300.0  # seconds between two sweeps of stale sessions by one process


def _now() -> datetime:
    return datetime.now(UTC)


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
    """(start, declared end or None). No header means "append at the current offset". The header
    follows the one ``Content-Range`` rule (``hub_rules.byte_ranges``: at most 18 digits a number)."""
    if header is None:
        return offset, None
    span = rules_content_range(header)
    if span is None:
        raise Invalid(f"bad Content-Range {header[:80]!r}: expected 'bytes START-END/*' (END not before START)")
    return span[0], span[1]


def _out_of_order(start: int, offset: int) -> RangeNotSatisfiable:
    error = RangeNotSatisfiable(f"chunk starts at {start} but the upload is at {offset}", offset=offset)
    error.headers["Upload-Offset"] = str(offset)
    return error


async def append(
    hub: Hub,
    who: Principal | None,
    upload_id: str,
    content_range: str | None,
    chunks: AsyncIterable[bytes],
    credential: str | None = None,
) -> dict:
    """Append one chunk; a START other than the current offset is a 416 carrying the offset.
    ``credential``: the request's ``Authorization`` header (``BodySlots`` learns whose it is)."""
    who = require_write(who)
    row = await run_in_threadpool(_session, hub, who, upload_id)
    start, end = parse_content_range(content_range, row.received)
    if start != row.received:
        raise _out_of_order(start, row.received)
    with body_slots(hub).hold(who.name, credential):
        offset = await _append_body(hub, who, row, end, chunks)
    return {"upload_id": upload_id, "offset": offset}


def body_slots(hub: Hub) -> BodySlots:
    if hub.body_slots is None:
        hub.body_slots = BodySlots(hub.settings.max_concurrent_uploads)
    return hub.body_slots


async def _append_body(
    hub: Hub, who: Principal, row: UploadSession, end: int | None, chunks: AsyncIterable[bytes]
) -> int:
    """Store the body as the next parts, then move ``received`` forward only if nobody else did.

    The body is read on the event loop (``BodySegments``: minimum rate, bounded memory); a worker
    thread only stores a segment that has fully arrived, so a slow client never holds one."""
    start, names, size = row.received, [], 0
    await run_in_threadpool(_check_quota, hub, who.name, 0 if end is None else end - start + 1)
    body = BodySegments(chunks, hub.settings, upload_charger(hub, who.name))
    try:
        while (segment := await body.next()) is not None:
            with segment:
                name = f"{start + size:016d}-{uuid.uuid4().hex[:8]}"
                names.append(name)
                size += await run_in_threadpool(
                    hub.store.put_part, row.id, name, segment, hub.settings.max_file_bytes - start - size
                )
        if end is not None and size != end - start + 1:
            raise Invalid(f"chunk carried {size} bytes but Content-Range announced {end - start + 1}; discarded")
        if size:
            await run_in_threadpool(_check_quota, hub, who.name, size)  # what arrived, before it counts as staged
            await run_in_threadpool(_record_parts, hub, who, row, names, size)
    except BaseException:
        if names:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(hub.store.delete_parts, row.id, names)
        raise
    return start + size


def _check_quota(hub: Hub, user: str, arriving: int) -> None:
    """Staged bytes count against the uploader's namespace quota (``limits.quotas``)."""
    with hub.db.read() as s:
        check_upload_quota(s, user, hub.settings, arriving)


def _record_parts(hub: Hub, who: Principal, row: UploadSession, names: list[str], size: int) -> None:
    start = row.received
    parts = json.dumps([*json.loads(row.parts), *names])
    with hub.db.write() as s:
        moved = s.execute(
            update(UploadSession)
            .where(UploadSession.id == row.id, UploadSession.received == start)
            .values(received=start + size, parts=parts, updated_at=_now())
        ).rowcount
    if moved != 1:  # another request appended (or the session was cancelled) meanwhile
        raise _out_of_order(start, _session(hub, who, row.id).received)


async def finish(
    hub: Hub,
    who: Principal | None,
    upload_id: str,
    digest: str | None,
    chunks: AsyncIterable[bytes],
    credential: str | None = None,
) -> dict:
    """Append the optional last chunk, then verify and store (hashing runs off the event loop)."""
    who = require_write(who)
    if not digest:
        raise Invalid("finishing an upload needs ?digest=sha256:<hex>")
    check_digest(digest)
    row = await run_in_threadpool(_session, hub, who, upload_id)
    with body_slots(hub).hold(who.name, credential):
        await _append_body(hub, who, row, None, chunks)
    return await run_in_threadpool(_complete, hub, who, upload_id, digest)


def finish_direct(hub: Hub, who: Principal | None, upload_id: str, parts: list[str], digest: str) -> dict:
    """Finish a session whose parts the client PUT straight into storage (``upload_part_url``):
    the same verification and recording as ``finish``."""
    who = require_write(who)
    check_digest(digest)
    _session(hub, who, upload_id)
    with hub.db.write() as s:
        s.get(UploadSession, upload_id).parts = json.dumps(parts)
    try:
        return _complete(hub, who, upload_id, digest)
    except BlobNotFound:  # nothing was PUT there
        _forget(hub, upload_id)
        raise NotFound(f"upload {upload_id} has no bytes") from None


def has_parts(hub: Hub, who: Principal, upload_id: str) -> bool:
    """Whether bytes reached this session through the hub (``append``)."""
    return bool(json.loads(_session(hub, who, upload_id).parts))


def finish_stored(hub: Hub, who: Principal | None, upload_id: str, digest: str) -> dict[str, object]:
    """Verify and store what the session already holds, with no last chunk."""
    who = require_write(who)
    check_digest(digest)
    return _complete(hub, who, upload_id, digest)


async def append_at(hub: Hub, who: Principal | None, upload_id: str, start: int, chunks: AsyncIterable[bytes]) -> bool:
    """Append a body meant to begin at ``start``: False (nothing stored) when the session already
    holds those bytes (a retried part), a 416 when bytes before it are missing."""
    who = require_write(who)
    row = await run_in_threadpool(_session, hub, who, upload_id)
    if start < row.received:
        return False
    if start != row.received:
        raise _out_of_order(start, row.received)
    with body_slots(hub).hold(who.name):
        await _append_body(hub, who, row, None, chunks)
    return True


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
    cutoff_dt = datetime.fromtimestamp(cutoff, UTC)
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


def upload_charger(hub: Hub, user: str) -> Callable[[int], Awaitable[None]] | None:
    """Charge arriving bytes to the user's daily upload allowance."""
    if hub.limits is None:
        return None
    return lambda nbytes: hub.limits.charge_upload(user, nbytes)

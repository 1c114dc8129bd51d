"""OCI-style resumable upload sessions. Chunks append to a staging file in the data dir
(the offset is its size); finishing hashes it, and only a matching digest moves it into
the blob store. Stale sessions are removed; nothing half-uploaded is ever visible."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterable
from contextlib import asynccontextmanager
from pathlib import Path

from ..errors import DigestMismatch, Invalid, NotFound, RangeNotSatisfiable, TooLarge
from ..storage.base import CHUNK, check_digest
from ..limits.quotas import check_open_uploads
from .auth import Principal, require_write
from .blobs import blob_size, record_blob  # noqa: F401 - blob_size is part of this module's API
from .context import Hub

_CHARGE_STEP = 1024 * 1024
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_RANGE_RE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def _root(hub: Hub) -> Path:
    return Path(hub.settings.data) / "uploads"


def _session_dir(hub: Hub, who: Principal, upload_id: str) -> Path:
    if not _ID_RE.fullmatch(upload_id):
        raise NotFound(f"upload {upload_id} not found")
    path = _root(hub) / upload_id
    try:
        owner = json.loads((path / "meta.json").read_text())["user"]
    except (OSError, ValueError, KeyError):
        raise NotFound(f"upload {upload_id} not found") from None
    if owner != who.name:
        raise NotFound(f"upload {upload_id} not found")
    return path


@asynccontextmanager
async def _locked(path: Path):
    """One writer per session across workers; waits without blocking the event loop."""
    with open(path / "lock", "w") as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start(hub: Hub, who: Principal | None) -> dict:
    who = require_write(who)
    cleanup_stale(hub)
    check_open_uploads(open_sessions(hub, who.name), hub.settings)
    upload_id = uuid.uuid4().hex
    path = _root(hub) / upload_id
    path.mkdir(parents=True)
    (path / "data").touch()
    (path / "meta.json").write_text(json.dumps({"user": who.name, "created": time.time()}))
    return {"upload_id": upload_id, "offset": 0}


def open_sessions(hub: Hub, user: str) -> int:
    """How many upload sessions ``user`` has open (capped by ``HUB_MAX_OPEN_UPLOADS``)."""
    root, count = _root(hub), 0
    if root.is_dir():
        for entry in root.iterdir():
            try:
                count += json.loads((entry / "meta.json").read_text())["user"] == user
            except (OSError, ValueError, KeyError):
                continue
    return count


def status(hub: Hub, who: Principal | None, upload_id: str) -> dict:
    path = _session_dir(hub, require_write(who), upload_id)
    return {"upload_id": upload_id, "offset": (path / "data").stat().st_size}


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


async def append(hub: Hub, who: Principal | None, upload_id: str, content_range: str | None,
                 chunks: AsyncIterable[bytes]) -> dict:
    """Append one chunk; a START other than the current offset is a 416 carrying the offset."""
    who = require_write(who)
    path = _session_dir(hub, who, upload_id)
    async with _locked(path):
        data = path / "data"
        offset = data.stat().st_size
        start, end = parse_content_range(content_range, offset)
        if start != offset:
            error = RangeNotSatisfiable(f"chunk starts at {start} but the upload is at {offset}", offset=offset)
            error.headers["Upload-Offset"] = str(offset)
            raise error
        written = await _write(hub, data, offset, chunks, who.name)
        if end is not None and written != end - start + 1:
            os.truncate(data, offset)
            raise Invalid(f"chunk carried {written} bytes but Content-Range announced {end - start + 1}; discarded")
        (path / "meta.json").touch()
        return {"upload_id": upload_id, "offset": offset + written}


async def _write(hub: Hub, data: Path, offset: int, chunks: AsyncIterable[bytes], user: str) -> int:
    """Append the chunks; the user's bytes per day are charged as they arrive, a MiB at a time."""
    written = charged = 0
    with open(data, "ab") as fh:
        try:
            async for chunk in chunks:
                written += len(chunk)
                if offset + written > hub.settings.max_file_bytes:
                    raise TooLarge(f"upload exceeds the {hub.settings.max_file_bytes}-byte file limit")
                if hub.limits is not None and (written - charged >= _CHARGE_STEP or not charged):
                    await hub.limits.charge_upload(user, written - charged)
                    charged = written
                fh.write(chunk)
            if hub.limits is not None:
                await hub.limits.charge_upload(user, written - charged)
        except BaseException:
            fh.flush()
            os.truncate(data, offset)
            raise
    return written


async def finish(hub: Hub, who: Principal | None, upload_id: str, digest: str | None,
                 chunks: AsyncIterable[bytes]) -> dict:
    """Append the optional last chunk, then verify and store (hashing runs off the event loop)."""
    from starlette.concurrency import run_in_threadpool

    who = require_write(who)
    if not digest:
        raise Invalid("finishing an upload needs ?digest=sha256:<hex>")
    check_digest(digest)
    path = _session_dir(hub, who, upload_id)
    async with _locked(path):
        data = path / "data"
        await _write(hub, data, data.stat().st_size, chunks, who.name)
        answer = await run_in_threadpool(_complete, hub, path, digest, who.name)
    shutil.rmtree(path, ignore_errors=True)
    return answer


def _complete(hub: Hub, path: Path, digest: str, uploader: str) -> dict:
    data = path / "data"
    actual, size = _hash(data)
    if actual != digest:
        shutil.rmtree(path, ignore_errors=True)
        raise DigestMismatch(f"uploaded bytes hash to {actual}, not {digest}; nothing was stored")
    if not hub.store.exists(digest):
        hub.store.put_file(data, digest)
    record_blob(hub, digest, size, uploader)
    return {"digest": digest, "size": size}


def cancel(hub: Hub, who: Principal | None, upload_id: str) -> None:
    shutil.rmtree(_session_dir(hub, require_write(who), upload_id), ignore_errors=True)


def cleanup_stale(hub: Hub, now: float | None = None) -> int:
    """Remove sessions untouched for longer than the configured TTL; return how many."""
    root, removed = _root(hub), 0
    if not root.is_dir():
        return 0
    limit = (now or time.time()) - hub.settings.upload_ttl_seconds
    for entry in root.iterdir():
        try:
            if (entry / "meta.json").stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _hash(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size

"""Who may learn that a blob exists, and who may reuse it without sending its bytes.

A digest is "known" to a caller when a live version of a repo they can see references it,
or when they uploaded those bytes themselves. Everyone else is told 404 and must upload,
so a digest never tells a stranger what a private repo holds, and a publish can never claim
bytes its author does not have. Blob rows also carry ``last_used_at``, which every upload
and publish refreshes in its own transaction, so garbage collection never takes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import Blob, BlobUpload, Repo, User, Version, VersionFile, utcnow
from ..errors import Conflict, NotFound
from ..storage.base import check_digest
from .auth import Principal, require_write
from .context import Hub

_BATCH = 500


def known_digests(session: Session, who: Principal | None, digests: Iterable[str]) -> dict[str, int]:
    """{digest: size} for the digests ``who`` may know about (see the module docstring)."""
    wanted = sorted(set(digests))
    found: dict[str, int] = {}
    for i in range(0, len(wanted), _BATCH):
        batch = wanted[i : i + _BATCH]
        if who is not None:
            found.update(
                session.execute(
                    select(Blob.digest, Blob.size)
                    .join(BlobUpload, BlobUpload.digest == Blob.digest)
                    .join(User, User.id == BlobUpload.user_id)
                    .where(User.name == who.name, Blob.digest.in_(batch))
                ).all()
            )
        rest = [d for d in batch if d not in found]
        if rest:
            visible = (
                select(Blob.digest, Blob.size)
                .join(VersionFile, VersionFile.digest == Blob.digest)
                .join(Version, Version.id == VersionFile.version_id)
                .join(Repo, Repo.id == Version.repo_id)
                .where(Blob.digest.in_(rest), Version.deleted.is_(False))
            )
            if who is None:
                visible = visible.where(Repo.private.is_(False))
            elif not who.is_admin:
                visible = visible.where(or_(Repo.private.is_(False), Repo.namespace.in_((who.name, *who.orgs))))
            found.update(session.execute(visible.distinct()).all())
    return found


def blob_size(hub: Hub, who: Principal | None, digest: str) -> int:
    """``HEAD /api/v1/blobs/{digest}``: the size, or 404 for blobs the caller may not know."""
    who = require_write(who)
    check_digest(digest)
    with hub.db.read() as s:
        size = known_digests(s, who, [digest]).get(digest)
    if size is None:
        raise NotFound(f"blob {digest} not found")
    return size


def put_blob(hub: Hub, stream: BinaryIO, uploader: str | None = None) -> tuple[str, int]:
    """Store bytes sent whole (the store hashes them) and record the blob: ``(digest, size)``."""
    digest, size = hub.store.put(stream)
    record_blob(hub, digest, size, uploader)
    return digest, size


def record_blob(hub: Hub, digest: str, size: int, uploader: str | None = None) -> None:
    """After the bytes are in the store: (re)record the blob, refresh its use, note the uploader.

    The store is checked again inside the transaction: a gc that removed the bytes between the
    upload and this point has committed by now (it holds the same lock), so the upload fails
    cleanly instead of recording a blob without bytes."""
    for attempt in range(3):
        try:
            with hub.db.write() as s:
                now = utcnow()
                refreshed = s.execute(update(Blob).where(Blob.digest == digest).values(last_used_at=now)).rowcount
                if not refreshed:
                    s.add(Blob(digest=digest, size=size, created_at=now, last_used_at=now))
                    s.flush()
                if uploader is not None:
                    user_id = s.scalar(select(User.id).where(User.name == uploader))
                    if user_id is not None and s.get(BlobUpload, (digest, user_id)) is None:
                        s.add(BlobUpload(digest=digest, user_id=user_id))
                        s.flush()
                if not hub.store.exists(digest):
                    raise Conflict(f"blob {digest} was removed while it was being uploaded; upload it again")
            return
        except IntegrityError:
            if attempt == 2:
                raise  # recorded concurrently: the next attempt refreshes it


def touch_blobs(session: Session, digests: Iterable[str]) -> set[str]:
    """Lock (in digest order, as gc does, so the two never deadlock) and refresh ``last_used_at`` of
    the blobs a publish relies on; return those that no longer exist."""
    wanted = sorted(set(digests))
    now, present = utcnow(), set()
    for i in range(0, len(wanted), _BATCH):
        batch = wanted[i : i + _BATCH]
        locked = session.scalars(
            select(Blob.digest).where(Blob.digest.in_(batch)).order_by(Blob.digest).with_for_update()
        ).all()
        if locked:
            session.execute(update(Blob).where(Blob.digest.in_(locked)).values(last_used_at=now))
        present.update(locked)
    return set(wanted) - present


def count_blobs(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Blob)) or 0

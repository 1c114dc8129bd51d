"""Quotas that need the database: open upload sessions per user and storage per
namespace. A namespace uses the bytes of the distinct blobs its live versions reference, plus,
for a user's own namespace, what the user has stored without publishing: bytes received by
their open upload sessions, the data of the Xet xorbs they sent that no rebuilt file holds yet, and blobs they uploaded that no version references (finished but
unpublished uploads, blobs of failed HF commits) until gc removes them. A namespace without
an admin-set quota gets ``HUB_NAMESPACE_QUOTA_BYTES`` (unlimited when unset)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session

from ..db.models import (
    Blob,
    BlobUpload,
    NamespaceQuota,
    Repo,
    UploadSession,
    User,
    Version,
    VersionFile,
    XetXorb,
    utcnow,
)
from ..errors import Invalid, QuotaExceeded, TooManyRequests
from ..settings import Settings


def check_open_uploads(open_sessions: int, settings: Settings) -> None:
    if open_sessions >= settings.max_open_uploads:
        raise TooManyRequests(
            f"{open_sessions} upload sessions are already open; finish or cancel one first", retry_after=60
        )


def quota_of(session: Session, namespace: str, settings: Settings) -> int | None:
    row = session.get(NamespaceQuota, namespace)
    return row.max_bytes if row is not None else settings.namespace_quota_bytes


def _used_blobs(session: Session, namespace: str) -> dict[str, int]:
    rows = session.execute(
        select(VersionFile.digest, VersionFile.size)
        .distinct()
        .join(Version, Version.id == VersionFile.version_id)
        .join(Repo, Repo.id == Version.repo_id)
        .where(Repo.namespace == namespace, Version.deleted.is_(False))
    ).all()
    return dict(rows)


def _orphans_of(session: Session, user: str) -> dict[str, int]:
    """Blobs ``user`` uploaded that no version references (of any namespace)."""
    rows = session.execute(
        select(Blob.digest, Blob.size)
        .join(BlobUpload, BlobUpload.digest == Blob.digest)
        .join(User, User.id == BlobUpload.user_id)
        .where(User.name == user, ~exists().where(VersionFile.digest == Blob.digest))
    ).all()
    return dict(rows)


def staged_bytes(session: Session, user: str) -> int:
    """Bytes received by ``user``'s open upload sessions, plus the data of their xorbs still held."""
    sessions = session.scalar(
        select(func.coalesce(func.sum(UploadSession.received), 0)).where(UploadSession.user_name == user)
    )
    return int(sessions or 0) + xet_staged_bytes(session, user)


def xet_staged_bytes(session: Session, user: str) -> int:
    """Data of ``user``'s xorbs that the hub still holds for them (``services.xet_cas``)."""
    query = (
        select(func.coalesce(func.sum(XetXorb.size), 0))
        .join(User, User.id == XetXorb.user_id)
        .where(User.name == user, XetXorb.data_digest.is_not(None))
    )
    return int(session.scalar(query) or 0)


def _stored(session: Session, namespace: str) -> tuple[dict[str, int], int]:
    """(blobs counted by digest: referenced or orphaned, staged bytes) of a namespace."""
    return {**_orphans_of(session, namespace), **_used_blobs(session, namespace)}, staged_bytes(session, namespace)


def namespace_usage(session: Session, namespace: str) -> int:
    blobs, staged = _stored(session, namespace)
    return sum(blobs.values()) + staged


def check_upload_quota(session: Session, user: str, settings: Settings, arriving: int) -> None:
    """Refuse (413) ``arriving`` more staged bytes that would take ``user``'s namespace past its quota."""
    quota = quota_of(session, user, settings)
    if quota is None:
        return
    total = namespace_usage(session, user) + arriving
    if total > quota:
        raise QuotaExceeded(
            f"namespace {user!r} would use {total} bytes with this upload (unpublished uploads "
            f"count), over its quota of {quota}"
        )


def check_namespace_quota(
    session: Session,
    namespace: str,
    settings: Settings,
    new_blobs: Iterable[tuple[str, int]],
    *,
    hold: bool = False,
    releasing: int = 0,
) -> None:
    """Refuse (413) when blobs not yet used by the namespace would take it past its quota.
    ``new_blobs`` are (digest, size); a digest of ``""`` counts as new bytes.

    ``hold=True`` inside the transaction that adds the version: writers into one namespace then take
    turns until they commit (SQLite's write lock already serialises every write; PostgreSQL takes a
    transaction-scoped advisory lock on the namespace), so racing publishes cannot each see room
    that only one of them fits. Without it the check is an early refusal, before any work.
    ``releasing``: staged bytes this very step frees (the xorbs a Xet shard turns into files)."""
    quota = quota_of(session, namespace, settings)
    if quota is None:
        return
    if hold and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"quota:{namespace}"})
    used, staged = _stored(session, namespace)
    extra = {digest or f"new-{i}": size for i, (digest, size) in enumerate(new_blobs) if digest not in used}
    total = sum(used.values()) + staged - releasing + sum(extra.values())
    if total > quota:
        raise QuotaExceeded(f"namespace {namespace!r} would use {total} bytes, over its quota of {quota}")


def set_namespace_quota(session: Session, namespace: str, max_bytes: int | None) -> None:
    """Set (or with ``None`` remove) a namespace's quota."""
    row = session.get(NamespaceQuota, namespace)
    if max_bytes is None:
        if row is not None:
            session.delete(row)
        return
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
        raise Invalid("max_bytes must be a non-negative integer or null")
    if row is None:
        session.add(NamespaceQuota(namespace=namespace, max_bytes=max_bytes, updated_at=utcnow()))
    else:
        row.max_bytes, row.updated_at = max_bytes, utcnow()

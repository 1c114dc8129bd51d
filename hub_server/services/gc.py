"""Garbage collection: delete blobs that no version references and that nobody has used for
longer than the grace period, plus expired upload sessions and Xet leftovers (``xet_cas.sweep``);
the data of a xorb still in use counts as referenced.

Safe against a publish racing it. Every publish refreshes ``blobs.last_used_at`` of the blobs
it relies on inside its own transaction; gc locks the idle rows (``FOR UPDATE``; SQLite's
``BEGIN IMMEDIATE`` serialises all writers), then — in a fresh statement that sees every
committed version — drops the ones still unreferenced and deletes their bytes before it
commits. A publish that touched a blob first has committed its version (gc waited for it);
a publish that comes second finds the row gone and is told to upload the bytes again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from ..db.models import Blob, BlobUpload, RefCommitFile, VersionFile, utcnow
from . import audit
from .blobs import count_blobs
from .context import Hub
from .uploads import cleanup_stale
from .xet_cas import held_data, sweep

_BATCH = 500


@dataclass(frozen=True)
class GcReport:
    removed_blobs: int
    freed_bytes: int
    kept_blobs: int
    upload_sessions_removed: int
    dry_run: bool

    def as_json(self) -> dict:
        return asdict(self)


def collect_garbage(
    hub: Hub, grace: timedelta, *, dry_run: bool = False, actor: str = "admin", progress=None
) -> GcReport:
    """Remove unreferenced blobs idle for longer than ``grace``; ``progress(n)`` is called per blob."""
    cutoff = utcnow() - grace
    sessions = 0 if dry_run else cleanup_stale(hub)
    if not dry_run:
        sweep(hub)
    with hub.db.write() as s:
        idle = dict(
            s.execute(
                select(Blob.digest, Blob.size).where(Blob.last_used_at < cutoff).order_by(Blob.digest).with_for_update()
            ).all()
        )
        digests = sorted(idle)
        referenced: set[str] = set()
        for i in range(0, len(digests), _BATCH):
            referenced.update(
                s.scalars(select(VersionFile.digest).where(VersionFile.digest.in_(digests[i : i + _BATCH])).distinct())
            )
            referenced.update(
                s.scalars(
                    select(RefCommitFile.digest)  # branch, tag and pull-request commits
                    .where(RefCommitFile.digest.in_(digests[i : i + _BATCH]))
                    .distinct()
                )
            )
            referenced.update(held_data(s, digests[i : i + _BATCH]))  # xorbs' data (Xet uploads)
        doomed = [d for d in digests if d not in referenced]
        kept = count_blobs(s) - len(doomed)
        if not dry_run and doomed:
            for i in range(0, len(doomed), _BATCH):
                batch = doomed[i : i + _BATCH]
                s.execute(delete(BlobUpload).where(BlobUpload.digest.in_(batch)))
                s.execute(delete(Blob).where(Blob.digest.in_(batch)))
            s.flush()
            for digest in doomed:  # still inside the transaction: nobody can re-record these rows meanwhile
                hub.store.delete(digest)
                if progress is not None:
                    progress(1)
            audit.record(
                s,
                "gc.run",
                actor,
                "blobs",
                removed=len(doomed),
                freed_bytes=sum(idle[d] for d in doomed),
                grace_seconds=int(grace.total_seconds()),
                upload_sessions_removed=sessions,
            )
    return GcReport(
        removed_blobs=len(doomed),
        freed_bytes=sum(idle[d] for d in doomed),
        kept_blobs=kept,
        upload_sessions_removed=sessions,
        dry_run=dry_run,
    )

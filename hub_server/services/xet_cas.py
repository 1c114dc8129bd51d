"""The hub's Xet content-addressed store (CAS), what ``hf_xet`` (``huggingface_hub``'s default
uploader when installed) talks to with the token from ``xet-write-token``: it sends xorbs
(compressed chunks of the files), then a shard listing each file as chunk ranges of xorbs.

A xorb is checked and decompressed while it is stored: its data (the chunks, decompressed, in
order) becomes an ordinary blob and a ``XetXorb`` row records where each chunk ends. Xorbs belong
to the user who sent them: a shard may only use its sender's xorbs, so nobody can plant bytes
under a hash that someone else's upload will name (the hub does not recompute Xet hashes; it
checks each file's sha256 instead).

A shard's files are rebuilt from those xorbs, hashed while they stream into the blob store,
checked against the sha256 the shard carries, and recorded as the sender's blobs exactly like
LFS uploads (quotas, ``last_used_at``, gc), so the commit that follows names them by sha256. A
file the sender already holds is not rebuilt. Where each chunk range landed is kept
(``XetRange``), and a xorb whose every chunk lies in some rebuilt file gives its data up (gc then
removes it): ``hf_xet`` remembers what it uploaded for three weeks and later sends shards that
reuse old xorbs without sending them again; those are served from the rebuilt files. A xorb not
fully used by any file is kept ``HUB_UPLOAD_TTL_SECONDS`` (``sweep``), like an upload session."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import XetRange, XetToken, XetXorb, utcnow
from ..errors import DigestMismatch, Invalid, TooLarge
from ..limits.quotas import check_namespace_quota, check_upload_quota
from ..storage.base import BlobNotFound, BlobStore
from .auth import Principal
from .blobs import known_digests, record_blob, touch_blobs
from .context import Hub
from .xet_shard import Segment, ShardError, ShardFile, read_shard
from .xet_tokens import XetGrant
from .xet_xorb import XorbData, XorbError

_HASH = re.compile(r"[0-9a-f]{64}")
_BATCH = 500
_PROGRESS_STEP = 8 * 1024 * 1024
GONE_HINT = (
    "this hub keeps a xorb's data until every chunk is in an uploaded file, else HUB_UPLOAD_TTL_SECONDS; "
    "delete hf_xet's cache (HF_XET_CACHE, by default ~/.cache/huggingface/xet) and upload again"
)


def _ends(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(packed) // 4}I", packed)


def _batches(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _BATCH):
        yield items[i : i + _BATCH]


def check_xorb_name(xorb: str) -> str:
    if not _HASH.fullmatch(xorb):
        raise Invalid("a xorb is named by its Xet hash: 64 lowercase hex characters")
    return xorb


# --- xorbs ---------------------------------------------------------------------------------


def put_xorb(hub: Hub, grant: XetGrant, xorb: str, body: BinaryIO, length: int) -> bool:
    """Check, decompress and store one xorb for ``grant.user``; False (nothing stored) when they
    already have it. Malformed bytes are refused with one line and nothing is kept."""
    check_xorb_name(xorb)
    with hub.db.read() as s:
        row = s.get(XetXorb, (grant.user_id, xorb))
        if row is not None and (
            row.data_digest is not None or _covered(s, grant.user_id, xorb, len(_ends(row.chunk_ends)))
        ):
            return False
        check_upload_quota(s, grant.user, hub.settings, length)
    data = XorbData(body, length)
    try:
        digest, size = hub.store.put(data)  # type: ignore[arg-type]  # a reader with read(), like the stores take
    except XorbError as exc:
        raise Invalid(f"xorb {xorb}: {exc}; nothing was stored") from None
    record_blob(hub, digest, size)  # no uploader: the data is nobody's blob, only this xorb's
    ends = struct.pack(f"<{len(data.ends)}I", *data.ends)
    for attempt in range(2):
        try:
            with hub.db.write() as s:
                row = s.get(XetXorb, (grant.user_id, xorb))
                if row is None:
                    s.add(XetXorb(user_id=grant.user_id, hash=xorb, size=size, chunk_ends=ends, data_digest=digest))
                    s.flush()
                else:
                    row.size, row.chunk_ends, row.data_digest, row.created_at = size, ends, digest, utcnow()
            return True
        except IntegrityError:  # the same xorb sent twice at once (a client's retry): the other one won
            if attempt:
                raise
    return True


def _covered(session: Session, user_id: int, xorb: str, chunks: int) -> bool:
    """Whether rebuilt files hold every chunk of the xorb."""
    spans = session.execute(
        select(XetRange.chunk_start, XetRange.chunk_end).where(XetRange.user_id == user_id, XetRange.xorb == xorb)
    ).all()
    reach = 0
    for start, end in sorted(spans):
        if start > reach:
            return False
        reach = max(reach, end)
    return reach >= chunks


# --- shards --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Xorb:
    ends: tuple[int, ...]
    data: str | None  # digest of the xorb's data while held
    size: int

    def offset(self, chunk: int) -> int:
        """Where chunk ``chunk`` starts in the xorb's data."""
        return self.ends[chunk - 1] if chunk else 0


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    digest: str
    offset: int


@dataclass(frozen=True)
class _Piece:
    digest: str
    start: int
    end: int  # inclusive, as ``BlobStore.open`` takes it


@dataclass
class ShardPlan:
    """What a shard asks for, checked: its files and, per file, the blob ranges its bytes come
    from (empty for files the sender already holds)."""

    files: list[ShardFile]
    pieces: list[list[_Piece]]
    held: set[int]
    xorbs: list[str] = field(default_factory=list)


def plan_shard(hub: Hub, grant: XetGrant, body: BinaryIO, length: int) -> ShardPlan:
    """Parse and check a shard against the sender's xorbs, sizes and quota; stores nothing."""
    try:
        files = read_shard(body, length)
    except ShardError as exc:
        raise Invalid(f"bad shard: {exc}; nothing was stored") from None
    names = sorted({s.xorb for f in files for s in f.segments})
    with hub.db.read() as s:
        xorbs = _load_xorbs(s, grant.user_id, names)
        missing = [name for name in names if name not in xorbs]
        if missing:
            raise Invalid(
                f"the shard uses xorb {missing[0]}, which {grant.user} has not uploaded here; nothing was stored"
            )
        for f in files:
            _check_file(hub, f, xorbs)
        who = Principal(user_id=grant.user_id, name=grant.user, orgs=(), scope="write")
        known = known_digests(s, who, [f"sha256:{f.sha256}" for f in files if f.sha256])
        held = {i for i, f in enumerate(files) if f.sha256 and known.get(f"sha256:{f.sha256}") == f.size}
        spans = _load_spans(s, grant.user_id, [n for n in names if xorbs[n].data is None])
        pieces = [[] if i in held else _pieces(f.segments, xorbs, spans) for i, f in enumerate(files)]
        new = [(f"sha256:{f.sha256}" if f.sha256 else "", f.size) for i, f in enumerate(files) if i not in held]
        # the xorbs' data, counted as the sender's staged bytes, is let go as the files land
        releasing = sum(x.size for x in xorbs.values() if x.data is not None) if grant.namespace == grant.user else 0
        check_namespace_quota(s, grant.namespace, hub.settings, new, releasing=releasing)
    return ShardPlan(files=files, pieces=pieces, held=held, xorbs=names)


def _load_xorbs(session: Session, user_id: int, names: list[str]) -> dict[str, _Xorb]:
    found = {}
    for batch in _batches(names):
        for row in session.scalars(select(XetXorb).where(XetXorb.user_id == user_id, XetXorb.hash.in_(batch))):
            found[row.hash] = _Xorb(_ends(row.chunk_ends), row.data_digest, row.size)
    return found


def _load_spans(session: Session, user_id: int, names: list[str]) -> dict[str, list[_Span]]:
    spans: dict[str, list[_Span]] = {}
    for batch in _batches(names):
        rows = session.scalars(select(XetRange).where(XetRange.user_id == user_id, XetRange.xorb.in_(batch)))
        for row in rows:
            spans.setdefault(row.xorb, []).append(_Span(row.chunk_start, row.chunk_end, row.digest, row.file_offset))
    return spans


def _check_file(hub: Hub, f: ShardFile, xorbs: dict[str, _Xorb]) -> None:
    if f.size > hub.settings.max_file_bytes:
        raise TooLarge(f"{f.size} bytes exceed the limit of {hub.settings.max_file_bytes} per file")
    for seg in f.segments:
        xorb = xorbs[seg.xorb]
        if seg.end > len(xorb.ends):
            raise Invalid(
                f"the shard names chunks {seg.start} to {seg.end} of xorb {seg.xorb}, which has "
                f"{len(xorb.ends)}; nothing was stored"
            )
        if xorb.offset(seg.end) - xorb.offset(seg.start) != seg.size:
            raise Invalid(
                f"the shard says chunks {seg.start} to {seg.end} of xorb {seg.xorb} hold {seg.size} bytes; "
                f"they hold {xorb.offset(seg.end) - xorb.offset(seg.start)}; nothing was stored"
            )


def _pieces(segments: list[Segment], xorbs: dict[str, _Xorb], spans: dict[str, list[_Span]]) -> list[_Piece]:
    """The blob ranges a file's segments read: the xorb's data while held, else rebuilt files."""
    out: list[_Piece] = []
    for seg in segments:
        xorb = xorbs[seg.xorb]
        if xorb.data is not None:
            _append(out, _Piece(xorb.data, xorb.offset(seg.start), xorb.offset(seg.end) - 1))
            continue
        chunk = seg.start
        while chunk < seg.end:
            span = next((s for s in spans.get(seg.xorb, ()) if s.start <= chunk < s.end), None)
            if span is None:
                raise Invalid(f"chunk {chunk} of xorb {seg.xorb} is no longer held: {GONE_HINT}")
            stop = min(seg.end, span.end)
            base = span.offset - xorb.offset(span.start)
            _append(out, _Piece(span.digest, base + xorb.offset(chunk), base + xorb.offset(stop) - 1))
            chunk = stop
    return out


def _append(pieces: list[_Piece], piece: _Piece) -> None:
    """Add a range, merged with the previous one when it continues it in the same blob."""
    last = pieces[-1] if pieces else None
    if last is not None and last.digest == piece.digest and last.end + 1 == piece.start:
        pieces[-1] = _Piece(last.digest, last.start, piece.end)
    else:
        pieces.append(piece)


class _PiecesReader:
    """The bytes of a list of blob ranges, one after another, as a stream; ``progress(n)`` hears
    how many bytes went by (every few MiB)."""

    def __init__(self, store: BlobStore, pieces: list[_Piece], progress: Callable[[int], None] | None) -> None:
        self._blocks = (block for p in pieces for block in store.open(p.digest, p.start, p.end))
        self._buffer = b""
        self._progress, self._seen, self._told = progress, 0, 0

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._buffer], len(self._buffer)
        while size < 0 or have < size:
            block = next(self._blocks, None)
            if block is None:
                break
            parts.append(block)
            have += len(block)
        joined = b"".join(parts)
        cut = len(joined) if size < 0 else size
        self._buffer = joined[cut:]
        out = joined[:cut]
        self._seen += len(out)
        if self._progress is not None and self._seen - self._told >= _PROGRESS_STEP:
            self._progress(self._seen - self._told)
            self._told = self._seen
        return out


def rebuild(hub: Hub, grant: XetGrant, plan: ShardPlan, progress: Callable[[int], None] | None = None) -> list[dict]:
    """Rebuild, verify and record every file of a checked shard; one dict per file."""
    digests = sorted({p.digest for pieces in plan.pieces for p in pieces})
    with hub.db.write() as s:  # gc keeps what this reads: it only takes blobs idle past the grace
        gone = touch_blobs(s, digests)
    if gone:
        raise Invalid(f"data of the shard's xorbs is no longer held ({min(gone)}): {GONE_HINT}")
    done = []
    for i, f in enumerate(plan.files):
        expected = f"sha256:{f.sha256}" if f.sha256 else None
        if i in plan.held and expected is not None:  # as the LFS batch API does: nothing to send
            record_blob(hub, expected, f.size)
            digest = expected
        else:
            try:
                digest, size = hub.store.put(_PiecesReader(hub.store, plan.pieces[i], progress), expected)  # type: ignore[arg-type]
            except DigestMismatch:
                raise DigestMismatch(
                    f"file {f.xet_hash} rebuilt from its xorbs does not hash to the sha256 the shard names "
                    f"({f.sha256}); nothing was stored"
                ) from None
            except BlobNotFound:
                raise Invalid(f"data of file {f.xet_hash}'s xorbs is no longer held: {GONE_HINT}") from None
            record_blob(hub, digest, size, grant.user)
        _record_spans(hub, grant.user_id, f, digest)
        done.append({"xet_hash": f.xet_hash, "sha256": digest.split(":", 1)[1], "size": f.size})
    _release(hub, grant.user_id, plan.xorbs)
    return done


def _record_spans(hub: Hub, user_id: int, f: ShardFile, digest: str) -> None:
    """Note where each chunk range of the file lies in its blob (once per range and blob)."""
    with hub.db.write() as s:
        known = set(
            s.execute(
                select(XetRange.xorb, XetRange.chunk_start, XetRange.chunk_end).where(
                    XetRange.user_id == user_id, XetRange.digest == digest
                )
            ).all()
        )
        offset = 0
        for seg in f.segments:
            if (seg.xorb, seg.start, seg.end) not in known:
                known.add((seg.xorb, seg.start, seg.end))
                s.add(
                    XetRange(
                        user_id=user_id,
                        xorb=seg.xorb,
                        chunk_start=seg.start,
                        chunk_end=seg.end,
                        digest=digest,
                        file_offset=offset,
                    )
                )
            offset += seg.size


def _release(hub: Hub, user_id: int, names: list[str]) -> None:
    """Give up the data of the xorbs whose every chunk now lies in rebuilt files."""
    with hub.db.write() as s:
        for batch in _batches(names):
            rows = s.scalars(
                select(XetXorb).where(
                    XetXorb.user_id == user_id, XetXorb.hash.in_(batch), XetXorb.data_digest.is_not(None)
                )
            ).all()
            for row in rows:
                if _covered(s, user_id, row.hash, len(_ends(row.chunk_ends))):
                    row.data_digest = None


# --- housekeeping --------------------------------------------------------------------------


def sweep(hub: Hub) -> None:
    """Expired Xet tokens go; xorbs held longer than ``upload_ttl_seconds`` give up their data
    (gc then removes it), and a xorb with neither data nor chunks in a live file is forgotten."""
    now = utcnow()
    cutoff = now - timedelta(seconds=hub.settings.upload_ttl_seconds)
    with hub.db.write() as s:
        s.execute(delete(XetToken).where(XetToken.expires_at < now))
        s.execute(
            update(XetXorb)
            .where(XetXorb.data_digest.is_not(None), XetXorb.created_at < cutoff)
            .values(data_digest=None)
        )
        s.execute(
            delete(XetXorb).where(
                XetXorb.data_digest.is_(None),
                ~exists().where(XetRange.user_id == XetXorb.user_id, XetRange.xorb == XetXorb.hash),
            )
        )


def held_data(session: Session, digests: list[str]) -> set[str]:
    """Which of ``digests`` hold the data of a xorb still in use (gc keeps them)."""
    return set(session.scalars(select(XetXorb.data_digest).where(XetXorb.data_digest.in_(digests)).distinct()))

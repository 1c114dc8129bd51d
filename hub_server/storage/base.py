"""The storage interface every blob backend implements: content-addressed bytes that are
verified against their sha256 before they become visible, so a crash or a bad upload can
never leave a blob whose name lies about its content. Upload sessions keep their chunks in
the store too ("parts"), so any host can continue, finish or clean up any session."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hub_rules import DigestInvalid
from hub_rules import check_digest as rules_check_digest

from ..errors import DigestMismatch, Invalid, NotFound, RangeNotSatisfiable, TooLarge

CHUNK = 1024 * 1024


def check_digest(digest: str) -> str:
    """The shared digest rule (``hub_rules.check_digest``) as a 400."""
    try:
        return rules_check_digest(digest)
    except DigestInvalid as exc:
        raise Invalid(str(exc)) from None


class BlobNotFound(NotFound):
    pass


class BlobStore(ABC):
    """put → verified and atomic; open → optional inclusive byte range; never partial blobs."""

    @abstractmethod
    def put(self, stream: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        """Store the stream; return (digest, size). A digest mismatch stores nothing."""

    def put_file(self, path: Path, expected_digest: str) -> int:
        """Store a local file already known to have ``expected_digest``; return its size."""
        with open(path, "rb") as fh:
            return self.put(fh, expected_digest)[1]

    @abstractmethod
    def open(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield bytes ``start..end`` (inclusive; ``end=None`` = to the last byte)."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def size(self, digest: str) -> int: ...

    @abstractmethod
    def delete(self, digest: str) -> None: ...

    @abstractmethod
    def iterate(self) -> Iterator[str]:
        """Every stored digest."""

    # --- parts of upload sessions (shared by every host) ---------------------------------

    @abstractmethod
    def put_part(self, session: str, name: str, stream: BinaryIO, limit: int) -> int:
        """Store one chunk of ``session`` as part ``name``; return its size. More than ``limit``
        bytes raise TooLarge and keep nothing."""

    @abstractmethod
    def open_part(self, session: str, name: str) -> Iterator[bytes]: ...

    @abstractmethod
    def delete_parts(self, session: str, names: list[str] | None = None) -> None:
        """Forget the named parts of ``session``, or all of them (missing ones are fine)."""

    @abstractmethod
    def staged_sessions(self) -> Iterator[tuple[str, float]]:
        """(session, epoch seconds of its newest part) for every session holding parts."""

    @abstractmethod
    def abort_stale(self, older_than: float) -> int:
        """Abort temporary writes begun before ``older_than`` (a host killed mid-put leaves them:
        temp files, S3 multipart uploads); return how many."""

    def commit_parts(self, session: str, names: list[str], expected_digest: str) -> tuple[str, int]:
        """Verify the concatenated parts against ``expected_digest`` and store them as one blob.
        A mismatch raises DigestMismatch and stores nothing; the parts stay until deleted."""
        check_digest(expected_digest)
        # Always the same work, whether or not the blob is already stored (by anyone, private
        # repos included): a shortcut for known bytes would let an upload's finishing time tell a
        # stranger that those bytes exist on the hub. Rewriting identical verified bytes is atomic.
        return self.put(PartsReader(self, session, names), expected_digest)

    def upload_part_url(self, session: str, name: str, expires: int) -> str | None:
        """A short-lived URL a client PUTs one upload part's bytes to straight into storage (the
        hub then verifies them with ``commit_parts``), or None when the backend has none."""
        return None

    # --- direct downloads -------------------------------------------------------------------

    def download_url(self, digest: str, expires: int, filename: str | None = None) -> str | None:
        """A short-lived URL serving the blob straight from storage (with Range), or None when the
        backend has none (then the hub streams the bytes itself)."""
        return None


def hash_to_sink(stream: BinaryIO, sink: BinaryIO) -> tuple[str, int]:
    """Copy ``stream`` into ``sink`` in chunks, returning its digest and size."""
    h, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        sink.write(chunk)
        size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def verify(actual: str, expected: str | None) -> None:
    if expected is not None and actual != expected:
        raise DigestMismatch(f"content hashes to {actual}, not {expected}; nothing was stored")


def check_range(size: int, start: int, end: int | None) -> int:
    """Validate an inclusive range against ``size``; return the resolved end."""
    end = size - 1 if end is None else min(end, size - 1)
    if start < 0 or (size > 0 and start > end) or (size == 0 and start > 0):
        raise RangeNotSatisfiable(f"range {start}-{end} outside a blob of {size} bytes", size=size)
    return end


class PartsReader:
    """A file-like view of an upload session's parts, one after another."""

    def __init__(self, store: BlobStore, session: str, names: list[str]) -> None:
        self._chunks = (chunk for name in names for chunk in store.open_part(session, name))
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


class LimitedReader:
    """Passes reads through and raises TooLarge once more than ``limit`` bytes went by."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream, self._left, self._limit = stream, limit, limit

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self._left -= len(chunk)
        if self._left < 0:
            raise TooLarge(f"upload exceeds the {self._limit}-byte limit")
        return chunk


def check_name(name: str) -> str:
    """Session and part names are generated by the hub: plain tokens, never paths."""
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,80}", name or ""):
        raise Invalid(f"invalid part or session name {name!r}")
    return name

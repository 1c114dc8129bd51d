"""The storage interface every blob backend implements: content-addressed bytes that are
verified against their sha256 before they become visible, so a crash or a bad upload can
never leave a blob whose name lies about its content."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import DigestMismatch, Invalid, NotFound, RangeNotSatisfiable

CHUNK = 1024 * 1024
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.fullmatch(digest):
        raise Invalid(f"invalid digest {digest!r}: expected sha256:<64 lowercase hex>")
    return digest


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

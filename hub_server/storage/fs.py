"""Blob backend on the local filesystem: temp file in the same directory tree, fsync of the
file, an atomic rename to ``sha256/ab/<hex>``, then fsync of the directories that changed —
so a blob that a commit reported stored survives a power loss."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import CHUNK, BlobNotFound, BlobStore, check_digest, check_range, hash_to_sink, verify


class FsBlobStore(BlobStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"

    def _path(self, digest: str) -> Path:
        hexd = check_digest(digest).split(":", 1)[1]
        return self.root / "sha256" / hexd[:2] / hexd

    def put(self, stream: BinaryIO, expected_digest: str | None = None) -> tuple[str, int]:
        if expected_digest is not None:
            check_digest(expected_digest)
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as sink:
                digest, size = hash_to_sink(stream, sink)
            verify(digest, expected_digest)
            self._commit(Path(name), digest)
            return digest, size
        finally:
            if os.path.exists(name):
                os.unlink(name)

    def put_file(self, path: Path, expected_digest: str) -> int:
        """A staged upload on the same filesystem moves in without a copy."""
        size = os.path.getsize(path)
        try:
            self._commit(Path(path), expected_digest)
        except OSError:  # another filesystem: copy and verify
            return super().put_file(path, expected_digest)
        return size

    def _commit(self, staged: Path, digest: str) -> None:
        target = self._path(digest)
        new_dirs = [d for d in (target.parent.parent, target.parent) if not d.is_dir()]
        target.parent.mkdir(parents=True, exist_ok=True)
        fsync_file(staged)
        os.replace(staged, target)
        for directory in {target.parent, staged.parent, *(d.parent for d in new_dirs)}:
            fsync_dir(directory)

    def open(self, digest: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(digest)
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} not found") from None
        end = check_range(os.fstat(fh.fileno()).st_size, start, end)
        return _read_range(fh, start, end)

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob {digest} not found") from None

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def iterate(self) -> Iterator[str]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for sub in sorted(base.iterdir()):
            for f in sorted(sub.iterdir()):
                yield "sha256:" + f.name


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_range(fh: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    with fh:
        fh.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk

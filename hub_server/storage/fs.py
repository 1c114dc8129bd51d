"""Blob backend on the local filesystem: temp file in the same directory tree, fsync of the
file, an atomic rename to ``sha256/ab/<hex>``, then fsync of the directories that changed —
so a blob that a commit reported stored survives a power loss. Upload parts live in
``uploads/<session>/`` (a shared filesystem makes them visible to every host)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import (
    CHUNK,
    BlobNotFound,
    BlobStore,
    LimitedReader,
    check_digest,
    check_name,
    check_range,
    hash_to_sink,
    verify,
)


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
            fh = open(path, "rb")  # noqa: SIM115 - closed by _read_range when the iteration ends
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

    def _session(self, session: str) -> Path:
        return self.root / "uploads" / check_name(session)

    def put_part(self, session: str, name: str, stream: BinaryIO, limit: int) -> int:
        folder = self._session(session)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / check_name(name)
        fd, staged = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as sink:
                _, size = hash_to_sink(LimitedReader(stream, limit), sink)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(staged, target)
            return size
        finally:
            if os.path.exists(staged):
                os.unlink(staged)

    def open_part(self, session: str, name: str) -> Iterator[bytes]:
        try:
            fh = open(self._session(session) / check_name(name), "rb")  # noqa: SIM115 - closed by _read_range
        except FileNotFoundError:
            raise BlobNotFound(f"part {name} of upload {session} not found") from None
        return _read_range(fh, 0, os.fstat(fh.fileno()).st_size - 1)

    def delete_parts(self, session: str, names: list[str] | None = None) -> None:
        if names is None:
            shutil.rmtree(self._session(session), ignore_errors=True)
            return
        for name in names:
            (self._session(session) / check_name(name)).unlink(missing_ok=True)

    def staged_sessions(self) -> Iterator[tuple[str, float]]:
        base = self.root / "uploads"
        if not base.is_dir():
            return
        for folder in base.iterdir():
            try:
                times = [f.stat().st_mtime for f in folder.iterdir()] or [folder.stat().st_mtime]
            except OSError:
                continue
            yield folder.name, max(times)

    def abort_stale(self, older_than: float) -> int:
        aborted = 0
        candidates = _listed(self.tmp, "put-*") + _listed(self.root / "uploads", "*/.part-*")
        for path in candidates:
            try:
                if path.stat().st_mtime < older_than:
                    path.unlink()
                    aborted += 1
            except OSError:
                continue
        return aborted


def _listed(folder: Path, pattern: str) -> list[Path]:
    """Matches of ``pattern`` under ``folder``; a session folder removed by another host meanwhile is skipped."""
    found: list[Path] = []
    if not folder.is_dir():
        return found
    for top in folder.iterdir() if "/" in pattern else [folder]:
        try:
            found += list(top.glob(pattern.split("/", 1)[1] if "/" in pattern else pattern))
        except OSError:  # removed while we looked (a finished or cancelled session)
            continue
    return found


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

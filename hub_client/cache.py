"""The local, content-addressed cache: every blob stored once, one snapshot folder per version.

Layout under the cache root (``HUB_CACHE`` or the user's cache dir)::

    blobs/sha256/<hex>                    read-only bytes, verified before they get this name
    blobs/verified/<hex>                  "size mtime_ns inode" of the blob when last hashed
    snapshots/<ns>/<name>/<version>/...   the version's files, hard links to the blobs
    refs/<ns>/<name>.json                 versions seen (commit, files, yanked) for offline use
    tmp/                                  partial downloads, renamed into blobs/ once verified

A snapshot is recorded in ``refs`` only after all of its files are in place, so a recorded
version is always complete; offline pulls and "already cached" checks read only this record.

Nothing is trusted on size alone: a blob counts as cached only while its verified marker matches
its current size, mtime and inode (otherwise it is re-hashed, and removed if it no longer
matches), and a snapshot file counts only while it is that verified blob (or hashes to it).
Every snapshot path is proven to stay under ``snapshots/`` before anything is removed or renamed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hub_rules import write_atomically

from .errors import BadServerAnswer
from .manifest import check_path, sha256_file


class LocalCache:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # --- blobs -------------------------------------------------------------------------------
    def blob_path(self, digest: str) -> Path:
        algo, _, hexdigest = digest.partition(":")
        if algo != "sha256" or len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        return self.root / "blobs" / "sha256" / hexdigest

    def _marker_path(self, digest: str) -> Path:
        return self.root / "blobs" / "verified" / self.blob_path(digest).name

    @staticmethod
    def _stamp(st: os.stat_result) -> str:
        return f"{st.st_size} {st.st_mtime_ns} {st.st_ino}"

    def _mark_verified(self, digest: str) -> None:
        marker = self._marker_path(digest)
        write_atomically(marker, self._stamp(self.blob_path(digest).stat()))

    def has_blob(self, digest: str, size: int, *, repair: bool = True) -> bool:
        """True when the blob is here with ``size`` bytes and still hashes to ``digest`` (checked
        through its verified marker, re-hashed when the marker is stale; a corrupt blob is removed)."""
        path = self.blob_path(digest)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if st.st_size != size:
            return False
        try:
            if self._marker_path(digest).read_text() == self._stamp(st):
                return True
        except OSError:
            pass
        return self.verify_blob(digest) if repair else sha256_file(path) == digest

    def verify_blob(self, digest: str) -> bool:
        """Re-hash one blob; keep and mark it when intact, remove it (and its marker) when not."""
        path = self.blob_path(digest)
        try:
            intact = sha256_file(path) == digest
        except FileNotFoundError:
            return False
        if intact:
            self._mark_verified(digest)
            return True
        self.remove_blob(digest)
        return False

    def remove_blob(self, digest: str) -> None:
        for item in (self.blob_path(digest), self._marker_path(digest)):
            with contextlib.suppress(FileNotFoundError):
                item.unlink()

    def temp_file(self) -> tuple[int, Path]:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=tmp, prefix="blob-")
        return fd, Path(name)

    def adopt_blob(self, tmp_path: Path, digest: str) -> Path:
        """Move a verified temporary file to its content address (read-only)."""
        target = self.blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp_path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.replace(tmp_path, target)
        self._mark_verified(digest)
        return target

    # --- snapshots ---------------------------------------------------------------------------
    def snapshot_dir(self, namespace: str, name: str, version: str) -> Path:
        """The version's folder, proven to stay under ``snapshots/`` (resolved, symlinks included)."""
        return self.inside_snapshots(self.root / "snapshots" / namespace / name / version)

    def inside_snapshots(self, path: Path) -> Path:
        base = (self.root / "snapshots").resolve()
        if not path.resolve().is_relative_to(base) or path.resolve() == base:
            raise BadServerAnswer(f"refused: {path} is not inside the cache's snapshots folder {base}")
        return path

    def build_snapshot(self, namespace: str, name: str, version: str, files: list[dict[str, Any]]) -> Path:
        """Link every (already cached) blob into the snapshot folder, atomically replacing it."""
        final = self.snapshot_dir(namespace, name, version)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = self.inside_snapshots(Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{version}-")))
        try:
            for f in files:
                dest = staging / check_path(f["path"])
                if not dest.resolve().is_relative_to(staging.resolve()):
                    raise BadServerAnswer(f"refused file path {f['path']!r}: it leaves the snapshot folder")
                dest.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(self.blob_path(f["digest"]), dest)
            if final.exists() or final.is_symlink():
                if self.snapshot_complete(namespace, name, version, files):  # another pull finished first
                    shutil.rmtree(staging)
                    return final
                _remove(self.inside_snapshots(final))
            try:
                os.replace(staging, final)
            except OSError:  # lost a race with a concurrent pull of the same version
                if not self.snapshot_complete(namespace, name, version, files):
                    raise
                shutil.rmtree(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return final

    def snapshot_complete(
        self, namespace: str, name: str, version: str, files: list[dict[str, Any]], *, repair: bool = True
    ) -> bool:
        """Every file is present and is its verified blob (same inode), or hashes to its digest.
        ``repair=False`` only looks: a corrupt blob found on the way is left in place."""
        folder = self.snapshot_dir(namespace, name, version)
        if folder.is_symlink() or not folder.is_dir():
            return False
        for f in files:
            path = folder / f["path"]
            try:
                st = path.lstat()
                if not stat.S_ISREG(st.st_mode) or st.st_size != f["size"]:
                    return False
                blob = self.blob_path(f["digest"]).stat()
            except (FileNotFoundError, NotADirectoryError):
                blob = None
                if not path.is_file():
                    return False
            if blob is not None and os.path.samestat(st, blob):
                if not self.has_blob(f["digest"], f["size"], repair=repair):
                    return False
            elif sha256_file(path) != f["digest"]:
                return False
        return True

    # --- refs --------------------------------------------------------------------------------
    def _refs_path(self, namespace: str, name: str) -> Path:
        return self.root / "refs" / namespace / f"{name}.json"

    def read_refs(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            data = json.loads(self._refs_path(namespace, name).read_text())
        except (OSError, ValueError):
            return {"versions": {}}
        data.setdefault("versions", {})
        return data

    @contextlib.contextmanager
    def _locked(self, namespace: str, name: str) -> Iterator[None]:
        lock = self._refs_path(namespace, name).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def repos(self) -> list[tuple[str, str]]:
        """Every ``(namespace, name)`` with a refs record, sorted."""
        found = []
        for path in sorted((self.root / "refs").glob("*/*.json")):
            found.append((path.parent.name, path.stem))
        return found

    def forget_version(self, namespace: str, name: str, version: str) -> None:
        """Drop a version's record and remove its snapshot folder (inside the cache only)."""
        with self._locked(namespace, name):
            refs = self.read_refs(namespace, name)
            refs["versions"].pop(version, None)
            path = self._refs_path(namespace, name)
            if path.exists():
                write_atomically(path, json.dumps(refs, indent=1, sort_keys=True))
        folder = self.snapshot_dir(namespace, name, version)
        if folder.exists() or folder.is_symlink():
            _remove(folder)

    def record_version(self, namespace: str, name: str, detail: dict[str, Any]) -> None:
        """Remember a complete snapshot (and its commit, files, yank state) for offline use."""
        entry = {
            "commit": detail.get("commit"),
            "yanked": bool(detail.get("yanked")),
            "yank_reason": detail.get("yank_reason"),
            "signature": detail.get("signature"),
            "files": [{"path": f["path"], "size": f["size"], "digest": f["digest"]} for f in detail["files"]],
        }
        with self._locked(namespace, name):
            refs = self.read_refs(namespace, name)
            refs["versions"][detail["version"]] = entry
            write_atomically(self._refs_path(namespace, name), json.dumps(refs, indent=1, sort_keys=True))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    else:
        shutil.rmtree(path)


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def copy_tree(src: Path, dest: Path) -> Path:
    """Copy a snapshot out of the cache as ordinary writable files (``--to DIR``)."""
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(src.rglob("*")):
        target = dest / item.relative_to(src)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.unlink()
            shutil.copyfile(item, target)
    return dest

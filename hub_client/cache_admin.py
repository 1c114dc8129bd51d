"""``hub cache ls | verify | prune``: what the local cache holds, whether every byte still
matches its digest, and removing what is corrupt or no longer wanted.

The cache's own layout and rules live in ``cache.LocalCache``; this module only walks it.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import LocalCache
from .progress import byte_bar
from .refs import parse_repo_ref

LEFTOVER_AGE_SECONDS = 3600


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    bytes_checked: int = 0
    corrupt_blobs: list[str] = field(default_factory=list)
    broken_snapshots: list[str] = field(default_factory=list)
    removed: bool = False

    @property
    def ok(self) -> bool:
        return not self.corrupt_blobs and not self.broken_snapshots


@dataclass
class PruneReport:
    snapshots: list[str] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    leftovers: int = 0
    dry_run: bool = False


def list_cached(cache: LocalCache) -> list[dict[str, Any]]:
    """One row per recorded version: repo, version, commit, files, bytes, yanked."""
    rows = []
    for ns, name in cache.repos():
        for version, entry in sorted(cache.read_refs(ns, name)["versions"].items()):
            files = entry.get("files") or []
            rows.append(
                {
                    "repo": f"{ns}/{name}",
                    "version": version,
                    "commit": entry.get("commit"),
                    "files": len(files),
                    "size": sum(int(f.get("size") or 0) for f in files),
                    "yanked": bool(entry.get("yanked")),
                    "path": str(cache.root / "snapshots" / ns / name / version),
                }
            )
    return rows


def _blob_files(cache: LocalCache) -> list[Path]:
    folder = cache.root / "blobs" / "sha256"
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def verify_cache(cache: LocalCache, *, remove: bool = True, progress: bool | None = None) -> VerifyReport:
    """Re-hash every blob and check every recorded snapshot against its record. With ``remove``,
    corrupt blobs are deleted and broken snapshots forgotten, so the next pull fetches them again."""
    report = VerifyReport(removed=remove)
    blobs = _blob_files(cache)
    bar = byte_bar(sum(p.stat().st_size for p in blobs), "verify cache", progress)
    try:
        for path in blobs:
            digest = f"sha256:{path.name}"
            size = path.stat().st_size
            try:
                intact = cache.verify_blob(digest) if remove else _hashes_to(path, digest)
            except ValueError:  # a file whose name is not a digest
                intact = False
                if remove:
                    path.unlink()
            report.blobs_checked += 1
            report.bytes_checked += size
            bar.update(size)
            if not intact:
                report.corrupt_blobs.append(digest)
    finally:
        bar.close()
    for row in list_cached(cache):
        ns, name = row["repo"].split("/")
        files = cache.read_refs(ns, name)["versions"][row["version"]].get("files") or []
        try:
            complete = cache.snapshot_complete(ns, name, row["version"], files, repair=remove)
        except Exception:  # noqa: BLE001 - an unreadable record is a broken snapshot
            complete = False
        if not complete:
            report.broken_snapshots.append(f"{row['repo']}@{row['version']}")
            if remove:
                cache.forget_version(ns, name, row["version"])
    return report


def _hashes_to(path: Path, digest: str) -> bool:
    from .manifest import sha256_file

    return sha256_file(path) == digest


def prune_cache(cache: LocalCache, reference: str | None = None, *, dry_run: bool = False) -> PruneReport:
    """Forget ``NS/NAME`` (all versions) or ``NS/NAME@VERSION`` when given; then remove blobs no
    recorded snapshot uses, and partial downloads and interrupted snapshot builds older than an hour."""
    report = PruneReport(dry_run=dry_run)
    if reference:
        ref = parse_repo_ref(reference)
        versions = cache.read_refs(ref.namespace, ref.name)["versions"]
        for version in sorted(versions):
            if ref.ref is None or ref.ref == version:
                report.snapshots.append(f"{ref.repo_id}@{version}")
                if not dry_run:
                    cache.forget_version(ref.namespace, ref.name, version)
    wanted: set[Any] = set()
    for ns, name in cache.repos():
        for entry in cache.read_refs(ns, name)["versions"].values():
            wanted.update(f.get("digest") for f in entry.get("files") or [])
    for path in _blob_files(cache):
        digest = f"sha256:{path.name}"
        if digest in wanted:
            continue
        report.blobs += 1
        report.bytes += path.stat().st_size
        if not dry_run:
            try:
                cache.remove_blob(digest)
            except ValueError:
                path.unlink()
    leftovers = list((cache.root / "tmp").glob("*")) + list((cache.root / "snapshots").glob("*/*/.*-*"))
    cutoff = time.time() - LEFTOVER_AGE_SECONDS  # younger ones may belong to a pull running now
    for item in [p for p in leftovers if p.lstat().st_mtime < cutoff]:
        report.leftovers += 1
        if not dry_run:
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                item.unlink(missing_ok=True)
    return report

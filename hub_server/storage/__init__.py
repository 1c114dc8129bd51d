"""Content-addressed blob storage behind one interface (filesystem or S3)."""

from __future__ import annotations

from pathlib import Path

from .base import BlobNotFound, BlobStore, check_digest
from .fs import FsBlobStore


def open_store(url: str | None, data_dir: Path) -> BlobStore:
    """``None``/``file://`` → filesystem under the data dir; ``s3://bucket/prefix?endpoint=...`` → S3."""
    if not url:
        return FsBlobStore(Path(data_dir) / "blobs")
    if url.startswith("s3://"):
        from .s3 import S3BlobStore

        return S3BlobStore(url)
    if url.startswith("file://"):
        return FsBlobStore(Path(url[len("file://") :]))
    raise ValueError(f"unsupported storage URL {url!r} (use s3://bucket/prefix?endpoint=... or file:///path)")


__all__ = ["BlobNotFound", "BlobStore", "FsBlobStore", "check_digest", "open_store"]

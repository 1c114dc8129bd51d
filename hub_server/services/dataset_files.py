"""Dataset repos hold data files only: the shared rule (``hub_rules.data_files``) applied to
paths (preupload, manifests) and to bytes (a commit's inline files before they are stored, a
manifest's blobs before a version is published). Refusals are one-line 422s naming the file."""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from hub_rules import DataFileCheck, DataFileRefused, check_data_path, data_kind

from ..errors import Unprocessable
from .context import Hub

DATASET = "dataset"
_BLOCK = 1024 * 1024


def is_dataset(kind: str | None) -> bool:
    return kind == DATASET


def check_path(path: str) -> str:
    """``path`` when a dataset may hold a file of its type, else a 422."""
    try:
        return check_data_path(path)
    except DataFileRefused as exc:
        raise Unprocessable(str(exc)) from None


def check_stream(path: str, stream: BinaryIO) -> None:
    """The bytes of ``stream`` (read in blocks) are a valid ``path``-typed data file, else a 422."""
    _check(path, iter(lambda: stream.read(_BLOCK), b""))


def check_blob(hub: Hub, path: str, digest: str, size: int) -> None:
    """A stored blob's bytes are a valid data file of ``path``'s type, else a 422 (opaque data
    files are not read)."""
    if check_path(path) and data_kind(path) != "opaque":
        _check(path, hub.store.open(digest, 0, size - 1) if size else iter(()))


def _check(path: str, chunks: Iterable[bytes]) -> None:
    try:
        check = DataFileCheck(path)
        for chunk in chunks:
            check.feed(chunk)
        check.finish()
    except DataFileRefused as exc:
        raise Unprocessable(str(exc)) from None

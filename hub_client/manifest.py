"""The local side of a version: which files, their sizes and sha256 digests, and the checks the
server would make, done before any byte is sent so a bad push fails fast and offline.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import hub_rules as rules

from .errors import RefusedFile

IGNORED_NAMES = {".git", "__pycache__", ".DS_Store", ".cache"}
_READ = 1 << 20


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    digest: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "digest": self.digest}


def check_path(path: str) -> str:
    """Return ``path`` if it obeys the shared path rule (``hub_rules.check_path``); raise otherwise."""
    try:
        return rules.check_path(path)
    except rules.PathRefused as exc:
        raise RefusedFile(f"refused path: {exc}") from None


def check_file_type(path: str, file: Path) -> None:
    """Refuse a file whose bytes are (or hold) a pickle, whatever its name (``hub_rules.is_pickle``, the
    hub's own rule); a ``.bin`` that is not a pickle is an ordinary file."""
    with open(file, "rb") as fh:

        def read(offset: int, length: int) -> bytes:
            fh.seek(offset)
            return fh.read(length)

        if rules.is_pickle(read, file.stat().st_size):
            raise RefusedFile(f"refused {path!r}: pickle formats are not accepted, save it as safetensors")


def sha256_file(path: Path, progress: Any = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            h.update(chunk)
            if progress is not None:
                progress.update(len(chunk))
    return "sha256:" + h.hexdigest()


def list_files(root: Path) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` as ``(relative posix path, absolute path)``, sorted."""
    if not root.is_dir():
        raise RefusedFile(f"{root} is not a directory")
    found = []
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root)
        if any(part in IGNORED_NAMES for part in rel.parts):
            continue
        if item.is_symlink() and not item.resolve().is_relative_to(root.resolve()):
            raise RefusedFile(f"refused {rel.as_posix()!r}: symlink points outside the directory")
        if item.is_file():
            rel_posix = rel.as_posix()
            check_path(rel_posix)
            check_file_type(rel_posix, item)
            found.append((rel_posix, item))
    if not found:
        raise RefusedFile(f"{root} contains no files to push")
    return found


def build_manifest(
    root: Path, progress: Any = None, files: list[tuple[str, Path]] | None = None
) -> list[ManifestEntry]:
    """Hash every file of ``root`` (or the given ``list_files`` result); ``progress`` advances by bytes read."""
    return [
        ManifestEntry(rel, path.stat().st_size, sha256_file(path, progress))
        for rel, path in (files if files is not None else list_files(root))
    ]


def commit_id(entries: list[ManifestEntry]) -> str:
    """First 40 hex of sha256 over the canonical JSON of the sorted ``[[path, digest, size]]``."""
    return rules.commit_id((e.path, e.digest, e.size) for e in entries)


def check_data_files(files: list[tuple[str, Path]]) -> None:
    """A dataset's files against the server's data-file rule (``hub_rules.data_files``), read
    locally so a code file or a broken JSONL line fails before anything is uploaded."""
    for rel, path in files:
        try:
            with open(path, "rb") as fh:
                rules.check_data_file(rel, iter(partial(fh.read, _READ), b""))
        except rules.DataFileRefused as exc:
            raise RefusedFile(f"refused {exc}") from None

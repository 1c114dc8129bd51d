"""The local index of base models this machine has seen, keyed by weight fingerprint.

An adapter names its base by fingerprint; this index is how a command finds that base on disk without
``--base``. It remembers the default base directory, every directory used as a base, and base repos
pulled from a hub. Each entry keeps the size and mtime of the directory's weight files, so a lookup
re-checks it with a few ``stat`` calls (no hashing) and drops it when the files changed or vanished.
Pure Python (no torch). The file is ``HUB_BASE_INDEX`` or ``bases.json`` in the user's cache dir.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub_rules import write_atomically

from ..errors import AdapterError
from ..settings import settings

__all__ = ["IndexedBase", "forget", "index_path", "indexed_bases", "lookup", "remember"]

_VERSION = 1
MAX_ENTRIES = 200  # oldest entries go first: the index is a memory of recent bases, not a catalogue


@dataclass(frozen=True)
class IndexedBase:
    """One remembered base directory."""

    fingerprint: str
    path: Path
    id: str
    added: float
    source: str  # how it was learned: "default", "--base", "hub NS/NAME@V", "hub base add"


def index_path() -> Path:
    return settings().base_index_file()


def _stamp(model_dir: Path) -> dict[str, list[int]] | None:
    """``{file: [size, mtime_ns]}`` of the weight files, None when the directory has none."""
    try:
        files = sorted(model_dir.glob("*.safetensors"))
        stamp = {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in files if p.is_file()}
    except OSError:
        return None
    return stamp or None


def _read() -> dict:
    try:
        data = json.loads(index_path().read_text())
    except (OSError, ValueError):
        return {"version": _VERSION, "bases": []}
    if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("bases"), list):
        return {"version": _VERSION, "bases": []}
    return data


def _write(data: dict) -> None:
    path = index_path()
    try:
        write_atomically(path, json.dumps(data, indent=1))
    except OSError:
        pass  # an index that cannot be written only means the next lookup searches further


@contextmanager
def _locked() -> Iterator[dict]:
    """Read-modify-write under a file lock, so two commands adding bases at once both land."""
    from filelock import FileLock, Timeout

    path = index_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path) + ".lock", timeout=10)
        lock.acquire()
    except (OSError, Timeout):
        lock = None
    try:
        data = _read()
        yield data
        _write(data)
    finally:
        if lock is not None:
            lock.release()


def _fresh(entry: dict) -> bool:
    return _stamp(Path(entry.get("path", ""))) == entry.get("files")


def _as_base(entry: dict) -> IndexedBase:
    return IndexedBase(
        entry["fingerprint"],
        Path(entry["path"]),
        entry.get("id") or "",
        float(entry.get("added", 0)),
        entry.get("source") or "",
    )


def remember(
    model_dir: str | Path, fingerprint: str, base_id: str = "", source: str = "", *, keep_source: bool = True
) -> None:
    """Add (or refresh) ``model_dir`` as the base with ``fingerprint`` (already computed by the caller).

    An unchanged entry keeps how it was first learned (a pulled base stays "hub NS/NAME@V" when used later)."""
    model_dir = Path(model_dir).absolute()
    stamp = _stamp(model_dir)
    if stamp is None:
        return
    with _locked() as data:
        same = [e for e in data["bases"] if e.get("path") == str(model_dir)]
        if keep_source and same and same[-1].get("fingerprint") == fingerprint and same[-1].get("files") == stamp:
            return
        bases = [e for e in data["bases"] if e.get("path") != str(model_dir)]
        bases.append(
            {
                "fingerprint": fingerprint,
                "path": str(model_dir),
                "id": base_id,
                "files": stamp,
                "added": time.time(),
                "source": source,
            }
        )
        data["bases"] = bases[-MAX_ENTRIES:]


def forget(model_dir: str | Path) -> bool:
    """Drop the entry for ``model_dir``; True when there was one."""
    target = str(Path(model_dir).absolute())
    with _locked() as data:
        before = len(data["bases"])
        data["bases"] = [e for e in data["bases"] if e.get("path") != target]
        return len(data["bases"]) != before


def indexed_bases() -> list[IndexedBase]:
    """Every entry whose files are unchanged; stale ones are dropped from the index on the way."""
    data = _read()
    fresh = [e for e in data["bases"] if _fresh(e)]
    if len(fresh) != len(data["bases"]):
        with _locked() as locked:
            locked["bases"] = [e for e in locked["bases"] if _fresh(e)]
    return [_as_base(e) for e in fresh]


def lookup(fingerprint: str) -> Path | None:
    """The newest unchanged directory remembered with ``fingerprint``, or None."""
    if not fingerprint:
        raise AdapterError("a base lookup needs a fingerprint")
    found = [b for b in indexed_bases() if b.fingerprint == fingerprint]
    return max(found, key=lambda b: b.added).path if found else None

"""Base-model fingerprints: a digest of the weights themselves, independent of file layout.

Two directories holding the same tensors (sharded differently, renamed files) get the same
fingerprint, so an adapter pin survives re-uploads. Pure Python (no torch): safetensors
headers are JSON and the tensor bytes are streamed. Results are cached by (path, size, mtime).
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from hub_rules import write_atomically

from ..errors import AdapterError
from ..settings import settings

__all__ = ["fingerprint", "tensor_lines"]

_CHUNK = 1 << 20
_CACHE_VERSION = 1


def _cache_path() -> Path:
    return settings().fingerprint_cache_file()


def _read_header(f) -> tuple[dict, int]:
    raw = f.read(8)
    if len(raw) != 8:
        raise AdapterError(f"{f.name}: not a safetensors file")
    (n,) = struct.unpack("<Q", raw)
    if n > 100 * 1024 * 1024:
        raise AdapterError(f"{f.name}: safetensors header too large")
    try:
        header = json.loads(f.read(n))
    except ValueError:
        raise AdapterError(f"{f.name}: malformed safetensors header") from None
    header.pop("__metadata__", None)
    return header, 8 + n


def tensor_lines(path: Path) -> list[str]:
    """``name dtype shape sha256`` for every tensor of one safetensors file."""
    lines = []
    with open(path, "rb") as f:
        header, base = _read_header(f)
        for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            start, end = info["data_offsets"]
            f.seek(base + start)
            h = hashlib.sha256()
            left = end - start
            while left > 0:
                block = f.read(min(_CHUNK, left))
                if not block:
                    raise AdapterError(f"{path}: truncated tensor {name}")
                h.update(block)
                left -= len(block)
            shape = "x".join(str(d) for d in info["shape"])
            lines.append(f"{name} {info['dtype']} {shape} {h.hexdigest()}")
    return lines


def _file_key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _load_cache() -> dict:
    try:
        data = json.loads(_cache_path().read_text())
        return data if data.get("version") == _CACHE_VERSION else {"version": _CACHE_VERSION, "files": {}}
    except (OSError, ValueError):
        return {"version": _CACHE_VERSION, "files": {}}


def _save_cache(cache: dict) -> None:
    path = _cache_path()
    try:
        write_atomically(path, json.dumps(cache))
    except OSError:
        pass  # the cache is an optimisation only


def fingerprint(model_dir: str | Path, use_cache: bool = True) -> str:
    """``sha256:<hex>`` over the sorted tensor lines of every ``*.safetensors`` in ``model_dir``."""
    model_dir = Path(model_dir)
    files = sorted(model_dir.glob("*.safetensors")) if model_dir.is_dir() else [model_dir]
    if not files or not all(p.is_file() for p in files):
        raise AdapterError(f"{model_dir}: no safetensors weights to fingerprint")
    cache = _load_cache() if use_cache else {"version": _CACHE_VERSION, "files": {}}
    lines: list[str] = []
    dirty = False
    for path in files:
        key = _file_key(path)
        cached = cache["files"].get(key)
        if cached is None:
            cached = tensor_lines(path)
            cache["files"][key] = cached
            dirty = True
        lines.extend(cached)
    if dirty and use_cache:
        _save_cache(cache)
    names = [ln.split(" ", 1)[0] for ln in lines]
    if len(set(names)) != len(names):
        raise AdapterError(f"{model_dir}: a tensor name appears in two files")
    digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return f"sha256:{digest}"

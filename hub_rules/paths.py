"""The one rule for file paths inside a version, applied by the server before storing a
manifest and by the client before a server-supplied path touches its disk.

A path is relative, forward-slashed and normalised: no ``..`` or ``.`` segments, no empty
segments, no absolute or drive-letter form, no backslash, no control characters (``\\n``,
``\\r``, NUL …), each segment at most 255 UTF-8 bytes. A manifest as a whole may not list a
path twice, nor a file that is also a folder of another file (``a`` and ``a/b``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from .errors import PathRefused

MAX_PATH_CHARS = 1000
MAX_SEGMENT_BYTES = 255
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def check_path(path: object) -> str:
    """Return ``path`` when it obeys the path rule; raise ``PathRefused`` otherwise."""
    if not isinstance(path, str) or not path:
        raise PathRefused(f"invalid file path {path!r}: must be a non-empty string")
    if len(path) > MAX_PATH_CHARS:
        raise PathRefused(f"invalid file path {path[:40]!r}...: longer than {MAX_PATH_CHARS} characters")
    if any(_is_control(ch) for ch in path):
        raise PathRefused(f"invalid file path {path!r}: control characters are not allowed")
    if "\\" in path or path.startswith("/") or (len(path) >= 2 and path[1] == ":"):
        raise PathRefused(f"invalid file path {path!r}: must be relative with forward slashes")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise PathRefused(f"invalid file path {path!r}: must be normalised (no '..', '.' or empty segments)")
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES:
            raise PathRefused(f"invalid file path {path[:40]!r}...: a segment is longer than {MAX_SEGMENT_BYTES} bytes")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise PathRefused(f"invalid file path {path!r}: not valid Unicode text") from None
    return path


def is_pickle_name(path: str) -> bool:
    """Pickle formats (``.bin``, ``.pt`` …) are never accepted: weights travel as safetensors."""
    return path.lower().endswith(PICKLE_SUFFIXES)


def check_not_pickle(path: str) -> str:
    if is_pickle_name(path):
        raise PathRefused(f"{path}: pickle formats are refused; save weights as .safetensors")
    return path


def check_manifest_paths(paths: Iterable[str]) -> list[str]:
    """Every path obeys ``check_path``; none is repeated; no file is a folder of another file."""
    checked = [check_path(p) for p in paths]
    files = set()
    for path in checked:
        if path in files:
            raise PathRefused(f"{path}: listed twice")
        files.add(path)
    for path in checked:
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in files:
                raise PathRefused(f"{folder}: is a file and also the folder of {path}")
    return checked

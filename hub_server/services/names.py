"""Validation of names (users, orgs, repos) and manifest file paths: relative,
normalised, no pickle formats — checked before anything is stored."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..errors import Invalid, Unprocessable

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy", ".npz")


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise Invalid(f"invalid {what} {name!r}: use letters, digits, '.', '_' or '-' (max 96)")
    return name


def check_path(path: str) -> str:
    """Refuse absolute paths, ``..``/``.`` segments, backslashes and pickle files."""
    if not isinstance(path, str) or not path or len(path) > 1000:
        raise Unprocessable(f"invalid file path {path!r}")
    if "\\" in path or "\x00" in path or path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise Unprocessable(f"invalid file path {path!r}: must be relative with forward slashes")
    parts = PurePosixPath(path).parts
    if any(p in ("..", ".", "") for p in parts) or "/".join(parts) != path:
        raise Unprocessable(f"invalid file path {path!r}: must be normalised (no '..' or '.' segments)")
    if path.lower().endswith(PICKLE_SUFFIXES):
        raise Unprocessable(f"{path}: pickle formats are refused; save weights as .safetensors")
    return path

"""What a commit id and a blob digest are, one rule for the client (push, the check of every
resolve answer) and the server (publish): a digest is ``sha256:<64 lowercase hex>``; a commit
id is the first 40 hex of sha256 over the canonical JSON of the sorted ``[[path, digest, size]]``
rows of a version's files, so the same files give the same commit on every side."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable

from .errors import DigestInvalid

DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


def is_digest(value: object) -> bool:
    return isinstance(value, str) and DIGEST_RE.fullmatch(value) is not None


def check_digest(value: object) -> str:
    """``value`` unchanged, or ``DigestInvalid`` (one line)."""
    if not is_digest(value):
        raise DigestInvalid(f"invalid digest {str(value)[:80]!r}: expected sha256:<64 lowercase hex>")
    return value  # type: ignore[return-value]


def commit_id(files: Iterable[tuple[str, str, int]]) -> str:
    """The commit id of a version whose files are ``(path, digest, size)``."""
    rows = sorted([path, digest, size] for path, digest, size in files)
    canonical = json.dumps(rows, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]

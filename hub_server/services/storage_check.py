"""Digest fields in requests: ``sha256:<64 hex>`` or a clear 422/400."""

from __future__ import annotations

from ..errors import Unprocessable
from ..storage.base import DIGEST_RE


def check_digest_field(value, path: str) -> str:
    if not isinstance(value, str) or not DIGEST_RE.fullmatch(value):
        raise Unprocessable(f"{path}: digest must be sha256:<64 lowercase hex>")
    return value

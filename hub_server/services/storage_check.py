"""Digest fields in requests: ``sha256:<64 hex>`` or a clear 422/400."""

from __future__ import annotations

from hub_rules import is_digest

from ..errors import Unprocessable


def check_digest_field(value, path: str) -> str:
    if not is_digest(value):
        raise Unprocessable(f"{path}: digest must be sha256:<64 lowercase hex>")
    return value

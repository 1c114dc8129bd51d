"""Checking the hub's verified results offline: each ``done`` evaluation carries a ``verifyToken`` (a compact
JWS, EdDSA over Ed25519) signed with the hub's result key (``GET /api/v1/evaluations/key``). With that public
key saved, anyone can confirm that a number beside an adapter is the one the hub's evaluator measured for that
repo, version, eval set and metric, with no network: a token that does not verify, or whose signed claims
differ from the number shown, is refused in one line."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import BadSignature

CLAIMS = ("repo", "version", "dataset", "split", "metric", "value", "n", "job_id")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check_token(token: str, public_pem: str) -> dict[str, Any]:
    """The claims of ``token`` when the hub's key signed it; ``BadSignature`` (one line) otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_pem.encode())
    except ValueError:
        raise BadSignature("the hub key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadSignature("the hub key is not an Ed25519 key")
    parts = token.split(".") if isinstance(token, str) else []
    try:
        if len(parts) != 3 or json.loads(_unb64(parts[0])).get("alg") != "EdDSA":
            raise ValueError
        key.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode())
        claims = json.loads(_unb64(parts[1]))
    except InvalidSignature:
        raise BadSignature("verifyToken does not verify against the hub key: not signed by this hub") from None
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeError):
        raise BadSignature("verifyToken is not a compact EdDSA JWS") from None
    if not isinstance(claims, dict):
        raise BadSignature("verifyToken is not a compact EdDSA JWS")
    return claims


def check_evaluations(rows: list[dict[str, Any]], public_pem: str) -> list[dict[str, Any]]:
    """Each ``done`` row of a version's evaluations (``GET .../evaluations``'s shape) checked: its token
    verifies and signs exactly the row's repo, version, eval set, split, metric, value and rows. The checked
    rows are returned; the first that fails raises ``BadSignature`` naming it."""
    checked = []
    for row in rows:
        if not isinstance(row, dict) or row.get("status") != "done":
            continue
        where = f"{row.get('repo')}@{row.get('version')} {row.get('dataset')} {row.get('metric')}"
        token = row.get("verify_token") or row.get("verifyToken")
        if not isinstance(token, str):
            raise BadSignature(f"{where}: a verified result without a verifyToken")
        claims = check_token(token, public_pem)
        differs = [k for k in CLAIMS if k in row and claims.get(k) != row[k]]
        if differs:
            raise BadSignature(
                f"{where}: the signed {differs[0]} is {claims.get(differs[0])!r}, not {row[differs[0]]!r}"
            )
        checked.append(row)
    return checked

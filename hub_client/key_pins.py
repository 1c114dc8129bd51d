"""Trust on first use for signing keys, like SSH's known_hosts.

The first time a pull meets a signer's key on a hub, the key is pinned in ``trusted-keys.json``
in the client config directory (per hub endpoint and user, with its PEM so ``hub verify`` works
offline). A later version of that user signed with a different key is refused with a message
saying which key was pinned and how to accept the new one (``hub keys forget USER``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub_rules import write_atomically
from hub_rules.signatures import key_fingerprint

from . import config
from .errors import BadSignature


def trust_file() -> Path:
    return config.config_dir() / "trusted-keys.json"


def _load() -> dict[str, Any]:
    try:
        data = json.loads(trust_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> None:
    write_atomically(trust_file(), json.dumps(data, indent=1, sort_keys=True))


def pinned(endpoint: str, user: str) -> dict[str, str]:
    """``{fingerprint: pem}`` pinned for ``user`` on ``endpoint``."""
    return dict(_load().get(endpoint.rstrip("/"), {}).get(user, {}))


def check_and_pin(endpoint: str, user: str, fingerprint: str, pem: str) -> bool:
    """Pin on first use (True); pass silently when already pinned (False); refuse a changed key."""
    if key_fingerprint(pem) != fingerprint:
        raise BadSignature(f"the hub sent a key for {user} whose fingerprint is not {fingerprint}")
    known = pinned(endpoint, user)
    if fingerprint in known:
        return False
    if known:
        raise BadSignature(
            f"signing key of {user} on {endpoint} changed: pinned {', '.join(sorted(known))}, this version is signed "
            f"with {fingerprint}; if {user} really changed keys, run `hub keys forget {user}` and pull again"
        )
    data = _load()
    data.setdefault(endpoint.rstrip("/"), {}).setdefault(user, {})[fingerprint] = pem
    _save(data)
    return True


def forget(user: str, endpoint: str | None = None) -> int:
    """Drop the pins of ``user`` (on one endpoint, or all); returns how many keys were dropped."""
    data, dropped = _load(), 0
    for hub, users in data.items():
        if endpoint is None or hub == endpoint.rstrip("/"):
            dropped += len(users.pop(user, {}))
    _save(data)
    return dropped


def find(fingerprint: str) -> tuple[str, str] | None:
    """``(user, pem)`` of a pinned key with this fingerprint, on any endpoint."""
    for users in _load().values():
        for user, keys in users.items():
            if fingerprint in keys:
                return user, keys[fingerprint]
    return None

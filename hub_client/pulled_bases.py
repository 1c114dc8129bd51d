"""Every ``base`` repo pulled from a hub goes into the ML core's local base index, under its weights' fingerprint.

``HubClient.pull`` calls this after each pull, so adapters pinned to that base find it later without
``--base``. Kept apart from ``bases`` (which builds the core's resolver on top of ``HubClient``) so the
client and the resolver do not import each other.
"""

from __future__ import annotations

from pathlib import Path

from .pinning import card_front

__all__ = ["remember_pulled_base"]


def remember_pulled_base(directory: Path, label: str) -> None:
    """Index a pulled ``base`` repo under the fingerprint of its weights (checked against its card).

    The card is read first: only a base that declares a fingerprint imports the ML core, so ``hub pull`` of
    an adapter or of plain files does not pay for importing ``adapters``."""
    front = card_front(directory)
    hub = front.get("adapter_hub") or {}
    if hub.get("kind") != "base" or not hub.get("fingerprint"):
        return
    try:
        from adapters.base.fingerprint import fingerprint
        from adapters.base.index import remember
        from adapters.errors import AdapterError
    except ImportError:  # the client without the ML core has no index to feed
        return
    try:
        actual = fingerprint(directory)
    except AdapterError:
        return
    if actual == hub["fingerprint"]:
        remember(directory, actual, str(front.get("base_model") or ""), label)

"""Model card front matter → the indexed metadata of a repo (method, task, base pin, tags
...), following the card schema in docs/contracts.md. Parsed by ``hub_rules.load_front_matter``."""

from __future__ import annotations

from typing import Any

from hub_rules import CardInvalid, load_front_matter

from ..errors import Unprocessable


def parse_front_matter(text: str) -> dict[str, Any]:
    """The README front matter through the one safe loader (no aliases, bounded); 422 otherwise."""
    try:
        return load_front_matter(text)
    except CardInvalid as exc:
        raise Unprocessable(f"README.md: {exc}") from None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def card_tags(card: dict[str, Any]) -> list[str]:
    """The card's ``tags`` as at most 100 strings, whatever YAML gave: a list, one scalar (``tags: 5``
    is the tag "5"), or something else (no tags)."""
    tags = card.get("tags")
    if isinstance(tags, (str, int, float)):
        tags = [tags]
    if not isinstance(tags, list):
        return []
    return sorted({str(t) for t in tags if isinstance(t, (str, int, float))})[:100]


def metadata_from_card(card: dict[str, Any]) -> dict[str, Any]:
    hub = card.get("adapter_hub") if isinstance(card.get("adapter_hub"), dict) else {}
    pin = hub.get("base") if isinstance(hub.get("base"), dict) else {}
    tags = card_tags(card)
    metrics = hub.get("metrics") if isinstance(hub.get("metrics"), dict) else {}
    lineage = hub.get("lineage") if isinstance(hub.get("lineage"), list) else []
    provenance = hub.get("provenance") if isinstance(hub.get("provenance"), dict) else {}
    return {
        "method": _text(hub.get("method")),
        "task": _text(hub.get("task")),
        "base_id": _text(pin.get("id") or card.get("base_model")),
        "base_revision": _text(pin.get("revision")),
        "base_fingerprint": _text(pin.get("fingerprint")),
        "pinned": bool(pin.get("fingerprint")),
        "tags": tags,
        "license": _text(card.get("license")),
        "metrics": metrics,
        "lineage": lineage,
        "provenance": provenance,
        "usage": _text(hub.get("usage")),
        "fingerprint": _text(hub.get("fingerprint")),
    }


EMPTY_METADATA = metadata_from_card({})

"""What an adapter can do (``hub_rules.adapter_capabilities``: mergeable, loadable by PEFT, its task), indexed
once when a version is published, from its card and its ``adapter_config.json``, so a repo page answers from
the version row and never reads a blob to decide which instructions to offer."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any, Protocol

from hub_rules.adapter_capabilities import TASKS, Capabilities, capabilities

CONFIG_PATH = "adapter_config.json"
CONFIG_LIMIT = 64 * 1024  # an adapter_config.json is a few hundred bytes; a larger one is not read


class _File(Protocol):
    path: str
    size: int
    digest: str


def read_adapter_config(files: Iterable[_File], read: Callable[[str, int], bytes]) -> dict[str, Any] | None:
    """The version's ``adapter_config.json`` (bounded), read through ``read(digest, size)``; None if absent,
    too large or not a JSON object."""
    entry = next((f for f in files if f.path == CONFIG_PATH), None)
    if entry is None or entry.size == 0 or entry.size > CONFIG_LIMIT:
        return None
    try:
        config = json.loads(read(entry.digest, entry.size))
    except (ValueError, UnicodeDecodeError):
        return None
    return config if isinstance(config, dict) else None


def index(kind: str, card: dict[str, Any], config: dict[str, Any] | None) -> str:
    """The JSON stored on the version row at publish (only an adapter's config counts)."""
    return json.dumps(asdict(capabilities(card, config if kind == "adapter" else None)), sort_keys=True)


def from_index(stored: str | None) -> Capabilities | None:
    """The capabilities indexed at publish; None when the row has none (published before they were indexed)."""
    try:
        raw = json.loads(stored) if stored else None
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    mergeable, peft, task = raw.get("mergeable"), raw.get("peft"), raw.get("task")
    if not (isinstance(mergeable, bool) and isinstance(peft, bool) and task in TASKS):
        return None
    return Capabilities(mergeable=mergeable, peft=peft, task=task)

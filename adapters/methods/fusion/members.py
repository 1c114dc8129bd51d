"""AdapterFusion's members: trained bottleneck adapters on one base, resolved and checked before any weights load.

Why its own module: every refusal about a member (not a bottleneck adapter, pinned to other base weights,
another placement than the others) must come before the base loads or a file is written, and a hub
reference can only be pulled through the ``Resolver`` the caller hands in (the core never imports the hub
client). The digest is taken over the files a member is made of, so the copy saved inside the fusion adapter
has the same digest as its source, and ``attach`` can tell a member was changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_rules import is_version

from ...errors import AdapterError
from ..bottleneck.config import PEFT_TYPE as BOTTLENECK_TYPE
from ..bottleneck.config import BottleneckConfig
from .config import MAX_MEMBERS

# what a member is made of: its card (with the base pin) and the bottleneck method's own files
MEMBER_FILES = ("README.md", "adapter_config.json", "adapter_model.safetensors")
REQUIRED_FILES = ("adapter_config.json", "adapter_model.safetensors")


@dataclass(frozen=True)
class Member:
    """One resolved member: its local folder, its bottleneck config, and what the fusion's config records."""

    folder: Path
    config: BottleneckConfig
    record: dict[str, Any]  # {"id", "version", "ref", "digest"} (``path`` is added when saved)


def member_files(folder: Path) -> list[str]:
    return [name for name in MEMBER_FILES if (folder / name).is_file()]


def files_digest(folder: Path) -> str:
    """sha256 over the member's files (name, NUL, bytes, NUL, in ``MEMBER_FILES`` order)."""
    digest = hashlib.sha256()
    for name in member_files(folder):
        digest.update(name.encode() + b"\0")
        with open(folder / name, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


def _bottleneck_config(folder: Path, label: str) -> BottleneckConfig:
    try:
        raw = json.loads((folder / "adapter_config.json").read_text())
    except (OSError, ValueError):
        raw = None
    if not isinstance(raw, dict) or str(raw.get("peft_type", "")).upper() != BOTTLENECK_TYPE:
        kind = raw.get("peft_type") if isinstance(raw, dict) else None
        raise AdapterError(
            f"fusion member {label} is not a bottleneck adapter (peft_type {kind!r}); "
            "AdapterFusion combines bottleneck adapters only"
        )
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise AdapterError(f"fusion member {label} lacks {', '.join(missing)}")
    return BottleneckConfig.load(folder)


def _record(ref: str, folder: Path, from_hub: bool) -> dict[str, Any]:
    """Where a member came from: a hub reference and the exact version pulled, or a local folder's name."""
    if from_hub:
        repo = ref.removeprefix("hub://").partition("@")[0]
        version = folder.name if is_version(folder.name) else None
        return {"id": repo, "version": version, "ref": ref, "digest": files_digest(folder)}
    return {"id": folder.resolve().name, "version": None, "ref": None, "digest": files_digest(folder)}


def resolve_members(
    refs: Any, pin: Any = None, resolver: Any = None, allow_base_mismatch: bool = False
) -> list[Member]:
    """Each ``REF`` (a local adapter directory or ``ns/name@version``) as a checked ``Member``.

    Refused in one line: no members, a member that is not a bottleneck adapter, one pinned to other base weights
    than ``pin`` (or, without a pin, than the first member), members of different placement or width."""
    from ...base.load import check_pin
    from ...errors import BaseMismatchError
    from ...resolver import resolve_adapter
    from ...runtime.stack import adapter_front

    if isinstance(refs, str):
        refs = [part.strip() for part in refs.split(",") if part.strip()]
    refs = [str(r) for r in refs or ()]
    if not refs:
        raise AdapterError("fusion needs its members: --adapters REF,REF,... (bottleneck adapters on this base)")
    if len(refs) > MAX_MEMBERS:
        raise AdapterError(f"fusion takes at most {MAX_MEMBERS} members, got {len(refs)}")
    members: list[Member] = []
    first_pin: dict | None = None
    for ref in refs:
        folder = resolve_adapter(ref, resolver)
        from_hub = not Path(ref).expanduser().is_dir()
        config = _bottleneck_config(folder, ref)
        front = adapter_front(folder)
        pinned = (front.get("adapter_hub") or {}).get("base") or {}
        if pin is not None:
            check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=f"fusion member {ref}")
        elif pinned.get("fingerprint"):
            if first_pin is None:
                first_pin = pinned
            elif pinned["fingerprint"] != first_pin["fingerprint"] and not allow_base_mismatch:
                raise BaseMismatchError(
                    f"fusion member {ref} is pinned to base {pinned['fingerprint']} but another member to "
                    f"{first_pin['fingerprint']}; members must share one base"
                )
        if members:
            head = members[0]
            if config.variant != head.config.variant:
                raise AdapterError(
                    f"fusion member {ref} is a {config.variant} adapter but {refs[0]} is {head.config.variant}; "
                    "members must sit at the same places (one --variant)"
                )
            if config.hidden_size != head.config.hidden_size:
                raise AdapterError(
                    f"fusion member {ref} has hidden size {config.hidden_size} but {refs[0]} has "
                    f"{head.config.hidden_size}; members must share one base"
                )
        members.append(Member(folder, config, _record(ref, folder, from_hub)))
    return members

"""Metadata a push needs from the artifact's own model card: its kind, and its base pin.

A plain PEFT directory made elsewhere has no card of ours; given ``base=`` we write one with the
pin (base id, revision, fingerprint) before pushing, so the metadata travels with the files.
The card helpers live in ``adapters.card`` / ``adapters.base.fingerprint``: pure Python, no torch.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BadReference, HubError, HubWarning

HUB_SCHEME = "hub://"


def card_front(directory: Path) -> dict[str, Any]:
    """The card's front matter as a dict ({} when the directory has no card)."""
    if not (directory / "README.md").is_file():
        return {}
    try:
        from adapters.card import read_card
    except ImportError:  # the client installed without the ML core: the shared loader reads it
        return _front_matter(directory / "README.md")
    try:
        card = read_card(directory)
    except Exception as exc:
        raise HubError(f"cannot read the model card in {directory}: {exc}") from exc
    return card.to_dict() if card is not None else {}


def _front_matter(readme: Path) -> dict[str, Any]:
    from hub_rules import CardInvalid, load_front_matter

    try:
        return load_front_matter(readme.read_text(encoding="utf-8"))
    except CardInvalid as exc:
        raise HubError(f"cannot read the model card in {readme.parent}: {exc}") from None


def card_body(directory: Path) -> str:
    card = _ml_core("adapters.card", "read_card")(directory)
    return card.body if card is not None else ""


def kind_of(front: dict[str, Any]) -> str:
    return ((front.get("adapter_hub") or {}).get("kind")) or "adapter"


def is_pinned(front: dict[str, Any]) -> bool:
    base = (front.get("adapter_hub") or {}).get("base") or {}
    return bool(base.get("fingerprint"))


def _ml_core(module: str, attr: str) -> Any:
    """``adapters.card`` / ``adapters.base.fingerprint`` (pure Python); a clear error if they are missing."""
    import importlib

    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise HubError(f"pinning a base needs {module}.{attr} from the adapters package: {exc}") from None


def pin_for(base: str, pull: Callable[[str, str | None], Path]) -> dict[str, Any]:
    """``{"id", "revision", "fingerprint"}`` for a local base model dir or ``hub://NS/NAME[@V]``."""
    fingerprint = _ml_core("adapters.base.fingerprint", "fingerprint")

    if base.startswith(HUB_SCHEME):
        repo, _, ref = base[len(HUB_SCHEME) :].partition("@")
        directory = pull(repo, ref or None)
        front = card_front(directory)
        own = (front.get("adapter_hub") or {}).get("fingerprint")
        return {"id": repo, "revision": directory.name, "fingerprint": own or fingerprint(directory)}
    directory = Path(base).expanduser()
    if not directory.is_dir():
        raise BadReference(f"base {base!r} is neither a model directory nor hub://NAMESPACE/NAME[@VERSION]")
    front = card_front(directory)
    own = (front.get("adapter_hub") or {}).get("fingerprint")
    base_id = front.get("base_model") if front.get("base_model_relation") is None else None
    base_id = base_id or _config_name(directory) or directory.resolve().name
    return {"id": base_id, "revision": None, "fingerprint": own or fingerprint(directory)}


def _config_name(directory: Path) -> str | None:
    try:
        name = json.loads((directory / "config.json").read_text()).get("_name_or_path")
    except (OSError, ValueError):
        return None
    return name if name and not Path(name).is_absolute() else None


def write_pinned_card(directory: Path, pin: dict[str, Any]) -> None:
    """Add (or replace) the base pin in the directory's card, creating a card for a plain PEFT dir."""
    write_card = _ml_core("adapters.card", "write_card")

    front = dict(card_front(directory))
    body = card_body(directory) if front else ""
    hub = dict(front.get("adapter_hub") or {})
    peft_config = _peft_config(directory)
    hub.setdefault("kind", "adapter")
    method = peft_config.get("peft_type")
    if method and "method" not in hub:
        hub["method"] = str(method).lower()
    task = {"CAUSAL_LM": "causal-lm", "SEQ_CLS": "seq-cls"}.get(str(peft_config.get("task_type")))
    if task and "task" not in hub:
        hub["task"] = task
    hub["base"] = pin
    front.setdefault("library_name", "peft")
    front["base_model"] = pin["id"]
    front.setdefault("base_model_relation", "adapter")
    tags = [t for t in front.get("tags") or [] if not str(t).startswith("base_model:")]
    for tag in ("adapter-hub", hub.get("method"), f"base_model:adapter:{pin['id']}"):
        if tag and tag not in tags:
            tags.append(tag)
    front["tags"] = tags
    front["adapter_hub"] = hub
    write_card(directory, front, body or f"# {directory.name}\n\nAdapter pinned to `{pin['id']}`.\n")


def write_base_card(directory: Path) -> None:
    """Give a base model directory its own fingerprint in the card (kept: everything already there), so the
    hub indexes it and adapters pinned to those weights find this repo by fingerprint."""
    if not any(directory.glob("*.safetensors")):
        return  # nothing to fingerprint: pushed as it is
    fingerprint = _ml_core("adapters.base.fingerprint", "fingerprint")
    write_card = _ml_core("adapters.card", "write_card")

    try:
        own = fingerprint(directory)
    except Exception as exc:  # noqa: BLE001 - unreadable weights are the user's to fix, in one line
        raise HubError(f"cannot fingerprint the base in {directory}: {exc}") from None
    front = dict(card_front(directory))
    body = card_body(directory) if (directory / "README.md").is_file() else ""
    hub = {**(front.get("adapter_hub") or {}), "kind": "base", "fingerprint": own}
    front["adapter_hub"] = hub
    front.setdefault("base_model", _config_name(directory) or directory.resolve().name)
    write_card(directory, front, body or f"# {front['base_model']}\n\nBase model.\n")


def _peft_config(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return {}


def warn_unpinned(directory: Path) -> None:
    warnings.warn(
        f"{directory} has no base pin: pushing it unpinned (pass --base to pin it to a base model)",
        HubWarning,
        stacklevel=3,
    )

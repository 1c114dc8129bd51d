"""Model cards (README.md with YAML front matter): the one place adapter metadata lives.

Pure Python (yaml and ``hub_rules`` only) so the hub client can read and write cards without
torch; reading goes through the shared safe loader (no YAML aliases, bounded size and depth).
The schema is described in docs/contracts.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hub_rules import CardInvalid
from hub_rules import parse_card as rules_parse_card

from .errors import AdapterError

CARD_NAME = "README.md"

__all__ = ["CARD_NAME", "CardData", "card_for_adapter", "parse_card", "read_card", "render_card", "write_card"]


@dataclass
class CardData:
    """A parsed card: the YAML front matter and the markdown body."""

    front: dict = field(default_factory=dict)
    body: str = ""

    def to_dict(self) -> dict:
        return dict(self.front)

    @property
    def hub(self) -> dict:
        """The ``adapter_hub`` section ({} when absent)."""
        return self.front.get("adapter_hub") or {}


def parse_card(text: str) -> CardData:
    """Split ``---\\nyaml\\n---\\nbody`` with the one safe loader (``hub_rules``); text without
    front matter is all body."""
    try:
        front, body = rules_parse_card(text)
    except CardInvalid as exc:
        raise AdapterError(str(exc)) from None
    return CardData(front, body)


def render_card(front: dict, body: str = "") -> str:
    text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return f"---\n{text}---\n{body}"


def read_card(directory: str | Path) -> CardData | None:
    """The card in ``directory``, or None when it has no README.md."""
    path = Path(directory) / CARD_NAME
    if not path.is_file():
        return None
    return parse_card(path.read_text(encoding="utf-8"))


def write_card(directory: str | Path, front: dict, body: str = "") -> Path:
    """Write README.md atomically (temp file + rename) so readers never see half a card."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / CARD_NAME
    tmp = path.with_name(CARD_NAME + ".tmp")
    tmp.write_text(render_card(_plain(front), body), encoding="utf-8")
    tmp.replace(path)
    return path


def _plain(value: Any) -> Any:
    """Tuples/paths/numpy-ish scalars to YAML-safe builtins."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def card_for_adapter(
    *,
    method: str,
    base_id: str | None,
    pin: dict | None,
    task: str = "causal-lm",
    options: dict | None = None,
    metrics: dict | None = None,
    training: dict | None = None,
    tags: list[str] | None = None,
    license: str = "apache-2.0",
    usage: str = "",
    versions: dict | None = None,
    label_names: list[str] | None = None,
) -> dict:
    """Front matter for a freshly trained adapter, following docs/contracts.md."""
    hub: dict[str, Any] = {"kind": "adapter", "method": method, "method_options": dict(options or {}), "task": task}
    if pin:
        hub["base"] = dict(pin)
    if metrics:
        hub["metrics"] = dict(metrics)
    if training:
        hub["training"] = dict(training)
    if label_names:
        hub["label_names"] = list(label_names)
    if usage:
        hub["usage"] = usage
    if versions:
        hub["versions"] = dict(versions)
    front: dict[str, Any] = {
        "library_name": "peft",
        "base_model": base_id,
        "base_model_relation": "adapter",
        "license": license,
        "tags": ["adapter-hub", method, task, *(tags or [])],
    }
    if base_id is None:
        front.pop("base_model")
    front["adapter_hub"] = hub
    return _plain(front)

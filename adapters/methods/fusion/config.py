"""AdapterFusion's saved configuration (``adapter_config.json``, ``peft_type: FUSION``) and its member list.

The members travel inside the adapter (``members/<i>/``), so a pushed fusion is self-contained; each is
recorded with where it came from and the sha256 digest of its files, which ``attach`` checks again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hub_rules import RuleError, check_path

from ...errors import AdapterError

PEFT_TYPE = "FUSION"
MEMBERS_DIR = "members"
MAX_MEMBERS = 64


@dataclass
class FusionConfig:
    """Where the members sit (their common variant), the base's width, and the members themselves.

    Each member: ``{"id", "version", "ref", "digest", "path"}``: ``ref`` the hub reference it was resolved from
    (None for a local directory), ``version`` the exact version pulled, ``path`` its folder inside this adapter."""

    members: list[dict[str, Any]] = field(default_factory=list)
    variant: str = "pfeiffer"
    hidden_size: int = 0
    task: str = "causal-lm"
    model_type: str = ""
    # a value projection per fusion layer (AdapterHub's dynamic fusion); False: static. Saved fusions without the
    # key predate the option and all carry value projections.
    value: bool = True
    peft_type: str = PEFT_TYPE

    def save(self, out_dir: Path) -> None:
        (Path(out_dir) / "adapter_config.json").write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, adapter_dir: Path) -> FusionConfig:
        """Read and check the config: a member path is a normalised folder under ``members/``, nothing else."""
        try:
            data = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())
        except (OSError, ValueError) as exc:
            raise AdapterError(f"{adapter_dir}: cannot read adapter_config.json ({exc})") from None
        if not isinstance(data, dict) or data.get("peft_type") != PEFT_TYPE:
            raise AdapterError(f"{adapter_dir}: not an AdapterFusion adapter (peft_type is not {PEFT_TYPE})")
        members = data.get("members")
        if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS:
            raise AdapterError(f"{adapter_dir}: adapter_config.json must list 1 to {MAX_MEMBERS} members")
        for member in members:
            path = member.get("path") if isinstance(member, dict) else None
            try:
                check_path(path)
            except RuleError:
                raise AdapterError(f"{adapter_dir}: a member's path {path!r} is not a relative folder") from None
            if not str(path).startswith(MEMBERS_DIR + "/") or not isinstance(member.get("digest"), str):
                raise AdapterError(f"{adapter_dir}: member {path!r} must sit under {MEMBERS_DIR}/ and carry a digest")
        try:
            return cls(
                members=members,
                variant=str(data.get("variant", "pfeiffer")),
                hidden_size=int(data.get("hidden_size", 0)),
                task=str(data.get("task", "causal-lm")),
                model_type=str(data.get("model_type", "")),
                value=_flag(data.get("value", True), adapter_dir),
            )
        except (TypeError, ValueError):
            raise AdapterError(f"{adapter_dir}: adapter_config.json has a malformed hidden_size") from None


def _flag(value: Any, adapter_dir: Path) -> bool:
    if not isinstance(value, bool):
        raise AdapterError(f"{adapter_dir}: adapter_config.json's value must be true or false")
    return value

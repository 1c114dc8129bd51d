"""The bottleneck adapter's saved configuration (``adapter_config.json``, ``peft_type: BOTTLENECK``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ...errors import AdapterError

PEFT_TYPE = "BOTTLENECK"
VARIANTS = ("pfeiffer", "houlsby")
NON_LINEARITIES = ("relu", "gelu", "silu", "tanh")


@dataclass
class BottleneckConfig:
    """Where adapters sit (variant) and how wide they are (hidden_size // reduction_factor)."""

    variant: str = "pfeiffer"
    reduction_factor: int = 16
    non_linearity: str = "relu"
    residual: bool = True
    hidden_size: int = 0
    task: str = "causal-lm"
    model_type: str = ""
    peft_type: str = PEFT_TYPE

    def __post_init__(self) -> None:
        self.variant = str(self.variant).lower()
        self.non_linearity = str(self.non_linearity).lower()
        if self.variant not in VARIANTS:
            raise AdapterError(f"bottleneck: variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}")
        if self.non_linearity not in NON_LINEARITIES:
            raise AdapterError(f"bottleneck: non_linearity must be one of {', '.join(NON_LINEARITIES)}")
        if int(self.reduction_factor) < 1:
            raise AdapterError("bottleneck: reduction_factor must be >= 1")
        self.reduction_factor = int(self.reduction_factor)

    @property
    def bottleneck_size(self) -> int:
        return max(1, self.hidden_size // self.reduction_factor)

    def save(self, out_dir: Path) -> None:
        (Path(out_dir) / "adapter_config.json").write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, adapter_dir: Path) -> BottleneckConfig:
        try:
            data = json.loads((Path(adapter_dir) / "adapter_config.json").read_text())
        except (OSError, ValueError) as exc:
            raise AdapterError(f"{adapter_dir}: cannot read adapter_config.json ({exc})") from None
        if data.get("peft_type") != PEFT_TYPE:
            raise AdapterError(f"{adapter_dir}: not a bottleneck adapter (peft_type {data.get('peft_type')!r})")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

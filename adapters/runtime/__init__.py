"""Saved PEFT adapters run as hooks on a frozen base, so adapters of different methods compose.

Each module reads PEFT's own files (``adapter_config.json`` + ``adapter_model.safetensors``)
directly, never PEFT's model wrappers, and returns an ``Attachment`` (see ``adapters.registry``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "attach_lora": "adapters.runtime.lora",
    "attach_ia3": "adapters.runtime.ia3",
    "attach_prompt": "adapters.runtime.prompt",
    "attach_prefix": "adapters.runtime.prefix",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adapters.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(module), "attach")

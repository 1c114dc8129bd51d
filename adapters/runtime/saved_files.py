"""Reading PEFT's saved adapter files (safetensors only) and mapping their keys onto a base model.

PEFT prefixes every key with the wrapper path ``base_model.model.``; the rest is the module path
inside the plain transformers model, which is what the hooks need.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..errors import AdapterError

PEFT_PREFIX = "base_model.model."
WEIGHTS_FILE = "adapter_model.safetensors"
CONFIG_FILE = "adapter_config.json"


def read_adapter(adapter_dir: Path | str) -> tuple[dict, dict[str, torch.Tensor]]:
    """The adapter's config and tensors (fp32). Pickle files are refused, never loaded."""
    from safetensors.torch import load_file

    adapter_dir = Path(adapter_dir)
    cfg_path = adapter_dir / CONFIG_FILE
    if not cfg_path.is_file():
        raise AdapterError(f"{adapter_dir}: no {CONFIG_FILE}")
    weights = adapter_dir / WEIGHTS_FILE
    if not weights.is_file():
        if (adapter_dir / "adapter_model.bin").exists():
            raise AdapterError(f"{adapter_dir}: only a pickle adapter_model.bin; re-save it as safetensors")
        raise AdapterError(f"{adapter_dir}: no {WEIGHTS_FILE}")
    config = json.loads(cfg_path.read_text())
    tensors = {k: v.to(torch.float32) for k, v in load_file(str(weights)).items()}
    return config, tensors


PROMPT_LEARNING_PREFIX = "base_model."  # prompt-learning wrappers hold the transformers model one level up


def module_path(key: str, prefix: str = PEFT_PREFIX) -> str:
    """``base_model.model.model.layers.0.q_proj.lora_A.weight`` → ``model.layers.0.q_proj.lora_A.weight``."""
    return key.removeprefix(prefix)


def get_module(model: nn.Module, path: str, adapter_dir: Path | str) -> nn.Module:
    try:
        return model.get_submodule(path)
    except AttributeError:
        raise AdapterError(f"{adapter_dir}: the base model has no module {path!r}; wrong base?") from None


def pattern_value(patterns: dict, name: str, default):
    """PEFT's rank/alpha patterns: the value of the first key that names this module (suffix match)."""
    import re

    for key, value in (patterns or {}).items():
        if name == key or name.endswith("." + key) or re.fullmatch(key, name) or re.fullmatch(rf".*\.{key}", name):
            return value
    return default


class SavedModules:
    """PEFT's ``modules_to_save`` (e.g. a classification head): swapped in on attach, restored on detach."""

    def __init__(
        self, model: nn.Module, tensors: dict[str, torch.Tensor], adapter_dir: Path | str, prefix: str = PEFT_PREFIX
    ):
        self._originals: list[tuple[torch.Tensor, torch.Tensor]] = []
        params = dict(model.named_parameters())
        for key, value in tensors.items():
            name = module_path(key, prefix)
            param = params.get(name)
            if param is None:
                raise AdapterError(f"{adapter_dir}: the base model has no parameter {name!r}; wrong base or task?")
            if param.shape != value.shape:
                raise AdapterError(
                    f"{adapter_dir}: {name} has shape {tuple(value.shape)}, the base "
                    f"{tuple(param.shape)} (a different number of labels?)"
                )
            self._originals.append((param, param.detach().clone()))
            with torch.no_grad():
                param.copy_(value.to(param.dtype))

    def restore(self) -> None:
        with torch.no_grad():
            for param, original in self._originals:
                param.copy_(original)
        self._originals = []

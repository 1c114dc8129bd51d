"""Prefix tuning from PEFT's saved files: learned key/value pairs that every attention layer sees
before the real tokens, given to the model as a pre-filled cache.

PEFT saves the final per-layer keys and values flattened as ``prompt_embeddings``
``(virtual_tokens, layers * 2 * heads * head_dim)``; this module reshapes them exactly as PEFT's
``get_prompt`` does. Not mergeable: attention always spans the extra positions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import AdapterError
from ...runtime.cache_kwarg import cache_argument, given_cache
from ...runtime.lifecycle import InputSide
from ...runtime.saved_files import PROMPT_LEARNING_PREFIX, SavedModules, read_adapter


@dataclass
class PrefixAttachment(InputSide):
    """Per-layer prefix keys/values fed as the model's pre-filled cache (see ``adapters.registry.Attachment``)."""

    name: str
    key_values: list[tuple[torch.Tensor, torch.Tensor]]  # per layer: (heads, virtual, head_dim) each
    weight: float
    mergeable: bool = False
    merged: bool = False
    latency_note: str = ""
    strip_positions: int = 0  # the prefix lives in the cache, not in the outputs
    config: dict = field(default_factory=dict)
    saved_modules: SavedModules | None = None  # a seq-cls head PEFT saved alongside (modules_to_save)

    @property
    def virtual_tokens(self) -> int:
        return int(self.key_values[0][0].shape[1])

    def prefix_cache(self, model: nn.Module, batch: int):
        from transformers import DynamicCache

        cache = DynamicCache(config=model.config)
        for layer, (k, v) in enumerate(self.key_values):
            cache.update(
                k.unsqueeze(0).expand(batch, -1, -1, -1).contiguous(),
                v.unsqueeze(0).expand(batch, -1, -1, -1).contiguous(),
                layer,
            )
        return cache

    def prepare_inputs(self, model: nn.Module, inputs: dict) -> dict:
        """Forward kwargs with a fresh pre-filled cache and an attention mask covering the prefix."""
        if given_cache(inputs) is not None:
            raise AdapterError("prefix tuning needs an empty cache at the start of a sequence")
        inputs = dict(inputs)
        ids = inputs.get("input_ids")
        ref = ids if ids is not None else inputs["inputs_embeds"]
        batch, length = ref.shape[0], ref.shape[1]
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = torch.ones(batch, length, dtype=torch.long, device=ref.device)
        ones = torch.ones(batch, self.virtual_tokens, dtype=mask.dtype, device=mask.device)
        inputs["attention_mask"] = torch.cat([ones, mask], dim=1)
        inputs[cache_argument(model)] = self.prefix_cache(model, batch)
        inputs["use_cache"] = True
        return inputs


def attach(model: nn.Module, adapter_dir: Path | str, weight: float = 1.0, name: str | None = None) -> PrefixAttachment:
    """Load saved prefix key/values; the stack feeds them as a pre-filled cache."""
    adapter_dir = Path(adapter_dir)
    if weight != 1.0:
        warnings.warn(
            f"{adapter_dir}: a weight does not apply to virtual tokens; using the adapter as trained", stacklevel=2
        )
    config, tensors = read_adapter(adapter_dir)
    flat = tensors.pop("prompt_embeddings", None)
    if flat is None:
        raise AdapterError(f"{adapter_dir}: no prompt_embeddings in the adapter weights")
    if config.get("task_type") not in (None, "CAUSAL_LM", "SEQ_CLS"):
        raise AdapterError(f"{adapter_dir}: prefix tuning is supported for causal-lm and seq-cls adapters only")
    n_virtual, layers, heads = config["num_virtual_tokens"], config["num_layers"], config["num_attention_heads"]
    head_dim = config["token_dim"] // heads
    expected = layers * 2 * heads * head_dim
    if flat.shape != (n_virtual, expected):
        raise AdapterError(f"{adapter_dir}: prefix weights of shape {tuple(flat.shape)} do not match its config")
    if layers != model.config.num_hidden_layers:
        raise AdapterError(
            f"{adapter_dir}: prefix for {layers} layers, the base has {model.config.num_hidden_layers}; wrong base?"
        )
    device = model.get_input_embeddings().weight.device
    # PEFT: view(batch, virtual, layers*2, heads, head_dim).permute(2, 0, 3, 1, 4) -> per layer k, v
    per_layer = flat.view(n_virtual, layers * 2, heads, head_dim).permute(1, 2, 0, 3).to(device)
    key_values = [(per_layer[2 * i], per_layer[2 * i + 1]) for i in range(layers)]
    note = f"{n_virtual} prefix positions in every attention layer; keys/values cannot be folded into weights"
    head = SavedModules(model, tensors, adapter_dir, PROMPT_LEARNING_PREFIX) if tensors else None
    return PrefixAttachment(
        name or adapter_dir.name, key_values, float(weight), latency_note=note, config=config, saved_modules=head
    )

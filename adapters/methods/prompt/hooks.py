"""Prompt tuning and P-tuning from PEFT's saved files: learned virtual-token embeddings placed before
the real tokens.

PEFT saves the final ``prompt_embeddings`` for both methods (P-tuning's encoder already applied), so
one input-preparation step serves both. Nothing is folded into weights, hence not mergeable: the
virtual tokens lengthen every sequence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ...errors import AdapterError
from ...runtime.lifecycle import InputSide
from ...runtime.saved_files import PROMPT_LEARNING_PREFIX, SavedModules, read_adapter


@dataclass
class PromptAttachment(InputSide):
    """Virtual tokens prepended to the input embeddings (see ``adapters.registry.Attachment``)."""

    name: str
    embeddings: torch.Tensor  # (num_virtual_tokens, hidden)
    weight: float
    saved_modules: SavedModules | None = None
    mergeable: bool = False
    merged: bool = False
    latency_note: str = ""
    config: dict = field(default_factory=dict)

    @property
    def virtual_tokens(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def strip_positions(self) -> int:
        """Leading positions of per-token outputs (logits) that belong to the virtual tokens."""
        return self.virtual_tokens

    def prepare_inputs(self, model: nn.Module, inputs: dict) -> dict:
        """Forward kwargs with the virtual tokens in front (embeddings, attention mask, token types)."""
        inputs = dict(inputs)
        input_ids = inputs.pop("input_ids", None)
        embeds = inputs.pop("inputs_embeds", None)
        if embeds is None:
            embeds = model.get_input_embeddings()(input_ids)
        batch = embeds.shape[0]
        prompt = self.embeddings.to(embeds.device, embeds.dtype).unsqueeze(0).expand(batch, -1, -1)
        inputs["inputs_embeds"] = torch.cat([prompt, embeds], dim=1)
        mask = inputs.get("attention_mask")
        if mask is not None:
            ones = torch.ones(batch, self.virtual_tokens, dtype=mask.dtype, device=mask.device)
            inputs["attention_mask"] = torch.cat([ones, mask], dim=1)
        types = inputs.get("token_type_ids")
        if types is not None:
            zeros = torch.zeros(batch, self.virtual_tokens, dtype=types.dtype, device=types.device)
            inputs["token_type_ids"] = torch.cat([zeros, types], dim=1)
        inputs.pop("position_ids", None)  # as PEFT: positions follow the lengthened sequence
        return inputs


def attach(model: nn.Module, adapter_dir: Path | str, weight: float = 1.0, name: str | None = None) -> PromptAttachment:
    """Load saved prompt embeddings; the stack prepends them in forward and generate."""
    adapter_dir = Path(adapter_dir)
    if weight != 1.0:
        warnings.warn(
            f"{adapter_dir}: a weight does not apply to virtual tokens; using the adapter as trained", stacklevel=2
        )
    config, tensors = read_adapter(adapter_dir)
    embeddings = tensors.get("prompt_embeddings")
    if embeddings is None:
        raise AdapterError(f"{adapter_dir}: no prompt_embeddings in the adapter weights")
    hidden = model.get_input_embeddings().weight.shape[1]
    if embeddings.shape[-1] != hidden:
        raise AdapterError(
            f"{adapter_dir}: prompt embeddings have width {embeddings.shape[-1]}, the base {hidden}; wrong base?"
        )
    if config.get("num_transformer_submodules", 1) != 1:
        raise AdapterError(f"{adapter_dir}: encoder-decoder prompt tuning is not supported")
    n = embeddings.shape[0]
    note = f"{n} virtual tokens lengthen every sequence; prompt embeddings cannot be folded into weights"
    device = model.get_input_embeddings().weight.device
    others = {k: v for k, v in tensors.items() if k != "prompt_embeddings"}
    return PromptAttachment(
        name or adapter_dir.name,
        embeddings.to(device),
        float(weight),
        SavedModules(model, others, adapter_dir, PROMPT_LEARNING_PREFIX),
        latency_note=note,
        config=config,
    )

"""A small greedy decoding loop with a KV cache that honours a stack's input preparation.

``model.generate`` cannot be told to prepend virtual tokens or start from a prefix cache without
PEFT's wrappers; this loop can, and benchmarks use the same loop for base and stacked runs so their
ratio measures the adapters only.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .cache_kwarg import cache_argument, output_cache

Prepare = Callable[[dict], dict]


@torch.no_grad()
def greedy_generate(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    max_new_tokens: int = 32,
    eos_token_id: int | list[int] | None = None,
    prepare: Prepare | None = None,
) -> torch.Tensor:
    """New token ids ``(batch, <= max_new_tokens)``; stops early once every row has produced EOS."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": True}
    if prepare is not None:
        inputs = prepare(inputs)
    mask = inputs["attention_mask"]
    eos = set([eos_token_id] if isinstance(eos_token_id, int) else (eos_token_id or []))
    done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
    out = model(**inputs)
    cache_name = cache_argument(model)
    new: list[torch.Tensor] = []
    for step in range(max_new_tokens):
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        new.append(token)
        if eos:
            done |= torch.isin(token.squeeze(-1), torch.tensor(sorted(eos), device=token.device))
            if bool(done.all()):
                break
        if step == max_new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones_like(token, dtype=mask.dtype)], dim=1)
        out = model(input_ids=token, attention_mask=mask, use_cache=True, **{cache_name: output_cache(out)})
    return torch.cat(new, dim=1)

"""Tiny pinned adapters of every method on one tiny base, and ``hub run``'s greedy tokens for each."""

from __future__ import annotations

from pathlib import Path

from tests.support.stack_fixtures import make_adapter, make_method_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir

METHODS = {
    "lora-a": ("lora", 1),
    "lora-b": ("lora", 2),
    "ia3": ("ia3", 3),
    "prompt": ("prompt_tuning", 4),
    "prefix": ("prefix_tuning", 5),
    "bottleneck": ("bottleneck", 6),
    "dora": ("lora", 7),
    "lora-c": ("lora", 8),
}


def make_tiny_adapters(root: Path, names=tuple(METHODS)) -> tuple[Path, dict[str, Path]]:
    """A tiny LLaMA base (with a chat template) and pinned, non-identity adapters on it."""
    from adapters import get_method

    base = make_llama_dir(root / "base")
    made = {}
    for name in names:
        method, seed = METHODS[name]
        out = root / name
        if method == "bottleneck":
            made[name] = make_method_adapter(get_method("bottleneck"), base, out, seed=seed)
        elif name == "lora-c":  # another rank on q_proj: the gathered product pads ranks
            made[name] = pin_adapter(make_adapter(base, out, "lora", seed=seed, rank_pattern={"q_proj": 2}), base)
        elif name == "dora":
            made[name] = pin_adapter(make_adapter(base, out, "lora", seed=seed, use_dora=True), base)
        else:
            made[name] = pin_adapter(make_adapter(base, out, method, seed=seed), base)
    return base, made


def hub_run_tokens(base: Path, adapter: Path | None, prompt: str, max_new_tokens: int) -> list[int]:
    """What ``hub run ADAPTER --prompt PROMPT --no-chat`` generates, as token ids (merged, greedy)."""
    import torch

    from adapters.runtime.generation import greedy_generate
    from adapters.runtime.stack import load_stack

    stack = load_stack(base, [adapter] if adapter else [], merge=True)
    stack.merge()
    enc = stack.encode(prompt, chat=False)
    with torch.no_grad():
        new = greedy_generate(
            stack.model,
            enc["input_ids"],
            enc["attention_mask"],
            max_new_tokens,
            stack.tokenizer.eos_token_id,
            prepare=stack.prepare_inputs if stack._input_preparer() else None,
        )
    return new[0].tolist()

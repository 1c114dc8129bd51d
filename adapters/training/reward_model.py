"""Scoring with a reward model: one scalar per (prompt, answer), and the pairwise accuracy on preference pairs.

Why its own module: the reward objective (training and its held-out figure), ``hub evaluate`` on a reward
adapter, and GRPO's ``--reward REF`` must all render a (prompt, answer) exactly as the reward model was
trained on it: the chat template's user turn, then the assistant turn (``adapters.training.data.encode_row``),
one sequence per answer, read by the single-output (``num_labels=1``) classification head.

Figures
    pairwise accuracy  share of pairs where the reward of ``chosen`` is higher than that of ``rejected``
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = ["check_reward_adapter", "pair_rewards", "pairwise_accuracy", "reward_ids", "score_answers"]

REWARD_OBJECTIVE = "reward"


def reward_ids(tokenizer: Any, prompt: str, answer: str, max_length: int) -> list[int]:
    """The token ids a reward model reads for one answer to one prompt (the training rendering)."""
    from .data import encode_row

    return encode_row(tokenizer, {"prompt": prompt, "completion": answer}, "causal-lm", max_length)["input_ids"]


def score_answers(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    answers: Sequence[str],
    batch_size: int = 8,
    max_length: int = 512,
) -> list[float]:
    """The reward of each answer after its prompt (a PEFT model, a bare seq-cls base or an ``AdapterStack``)."""
    import torch

    from .data import Collator, pad_id

    collate = Collator(pad_id(tokenizer))
    found: list[float] = []
    items = list(zip(prompts, answers, strict=True))
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            batch = collate([{"input_ids": reward_ids(tokenizer, p, a, max_length), "labels": 0} for p, a in chunk])
            out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            logits = out.logits if hasattr(out, "logits") else out[0]
            if logits.shape[-1] != 1:
                raise AdapterError(f"a reward model has one output; this one has {logits.shape[-1]}")
            found += logits[:, 0].float().tolist()
    return found


def pair_rewards(
    model: Any, tokenizer: Any, rows: Sequence[dict], batch_size: int = 8, max_length: int = 512
) -> tuple[list[float], list[float]]:
    """Rewards of each pair's chosen and rejected answer."""
    prompts = [r["prompt"] for r in rows]
    chosen = score_answers(model, tokenizer, prompts, [r["chosen"] for r in rows], batch_size, max_length)
    rejected = score_answers(model, tokenizer, prompts, [r["rejected"] for r in rows], batch_size, max_length)
    return chosen, rejected


def pairwise_accuracy(chosen: Sequence[float], rejected: Sequence[float]) -> float:
    """Share of pairs whose chosen answer gets the higher reward (ties count as misses)."""
    if not chosen:
        raise AdapterError("no pairs to score")
    return sum(c > r for c, r in zip(chosen, rejected, strict=True)) / len(chosen)


def check_reward_adapter(adapter_dir: Path, shown: str | None = None) -> dict:
    """The card of a reward adapter (trained with ``--objective reward``); anything else is refused in one line."""
    from ..card import read_card

    shown = shown or str(adapter_dir)
    card = read_card(adapter_dir)
    hub = card.hub if card else {}
    name = (hub.get("objective") or {}).get("name")
    if name != REWARD_OBJECTIVE or hub.get("task") != "seq-cls":
        found = f"its card's objective is {name!r}" if name else "it has no card of ours naming an objective"
        raise AdapterError(f"{shown}: not a reward adapter ({found}); train one with --objective reward")
    return hub

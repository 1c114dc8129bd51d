"""Held-out evaluation of a base alone or a base + stacked adapters: exact match, perplexity or accuracy.

Why a hand-written greedy loop instead of ``model.generate``: it only needs a forward pass, so it
works the same for a bare base and for any stack of adapters (prompt and prefix methods included,
which change the sequence length), and it is batched. Rows are right-padded and each row's next
token is read at its own last position, so padding never changes a result (no position-id tricks).
Prompts are rendered exactly as in training (``adapters.training.data.format_prompt``). Perplexity is
``adapters.evaluation.perplexity``: the same rows, tokenised by the training rule, one forward pass a batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ..resolver import Resolver
from .forward import logits_of as _logits


@dataclass
class EvalResult:
    """``exact_match`` for causal-lm prompt/completion rows (normalised: case, outer whitespace and final
    period ignored) and ``perplexity`` for every causal-lm set (over the completions, or the whole text of
    ``{"text"}`` rows; ``tokens`` scored), ``accuracy`` for seq-cls; ``predictions`` in data order."""

    n: int
    exact_match: float | None = None
    perplexity: float | None = None
    tokens: int | None = None  # how many tokens the perplexity averages over
    accuracy: float | None = None
    predictions: list[str] = field(default_factory=list)
    preferred_rate: float | None = None  # preference pairs: see adapters.training.preferences
    reward_margin: float | None = None
    beta: float | None = None
    pairwise_accuracy: float | None = None  # a reward adapter on pairs: see adapters.training.reward_model

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"n": self.n}
        for name in (
            "exact_match",
            "perplexity",
            "tokens",
            "accuracy",
            "preferred_rate",
            "reward_margin",
            "beta",
            "pairwise_accuracy",
        ):
            if getattr(self, name) is not None:
                found[name] = getattr(self, name)
        return found


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).rstrip(".").strip().casefold()


def _stop_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    gen = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if gen is None:
        gen = getattr(getattr(getattr(model, "model", None), "generation_config", None), "eos_token_id", None)
    ids.update(gen if isinstance(gen, (list, tuple)) else [gen] if gen is not None else [])
    return ids


def greedy_batch(
    model: Any, tokenizer: Any, prompts: Sequence[str], max_new_tokens: int = 16, stop_ids: set[int] | None = None
) -> list[str]:
    """Greedy continuations of already-formatted prompts, one forward pass per new token."""
    import torch

    from ..training.data import pad_id

    stop_ids = stop_ids if stop_ids is not None else _stop_ids(model, tokenizer)
    rows = [list(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    new: list[list[int]] = [[] for _ in rows]
    done = [False] * len(rows)
    pad = pad_id(tokenizer)
    with torch.no_grad():
        for _ in range(max_new_tokens):
            seqs = [r + n for r, n in zip(rows, new, strict=False)]
            width = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), width), pad, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for i, s in enumerate(seqs):
                ids[i, : len(s)] = torch.tensor(s)
                mask[i, : len(s)] = 1
            logits = _logits(model, input_ids=ids, attention_mask=mask)
            for i, s in enumerate(seqs):
                if done[i]:
                    continue
                # counted from the end: methods that prepend virtual tokens keep this index right
                token = int(logits[i, logits.shape[1] - (width - len(s)) - 1].argmax())
                if token in stop_ids:
                    done[i] = True
                else:
                    new[i].append(token)
            if all(done):
                break
    return [tokenizer.decode(n, skip_special_tokens=True) for n in new]


def _load(
    base: str | Path | None,
    adapters: Sequence[str | Path],
    task: str,
    weights: Sequence[float] | None,
    revision: str | None,
    allow_base_mismatch: bool,
    resolver: Resolver | None,
    quantize: str | None = None,
):
    if adapters:
        from ..runtime.stack import load_stack

        stack = load_stack(
            None if base is None else str(base),
            [str(a) for a in adapters],
            weights=weights,
            task=task,
            allow_base_mismatch=allow_base_mismatch,
            resolver=resolver,
            quantize=quantize,
        )
        return stack, stack.tokenizer
    from ..base.load import load_base, resolve_base
    from ..training.quantize import check_backend

    if base is None:
        raise AdapterError("evaluating a base alone needs --base")
    if quantize is not None:
        check_backend(quantize)
    return load_base(resolve_base(str(base), revision=revision, resolver=resolver), task=task, quantize=quantize)


def _label_names(adapters: Sequence[str | Path], model: Any) -> list[str] | None:
    from ..card import read_card

    for adapter in adapters:
        card = read_card(Path(adapter))
        names = card and (card.front.get("adapter_hub") or {}).get("label_names")
        if names:
            return list(names)
    id2label = getattr(getattr(model, "config", None), "id2label", None)
    return [id2label[i] for i in sorted(id2label)] if id2label else None


def evaluate(
    base: str | Path | None,
    data: str | Path,
    adapters: Sequence[str | Path] = (),
    *,
    task: str = "causal-lm",
    weights: Sequence[float] | None = None,
    batch_size: int = 8,
    max_new_tokens: int = 16,
    revision: str | None = None,
    allow_base_mismatch: bool = False,
    limit: int | None = None,
    progress: bool = True,
    resolver: Resolver | None = None,
    quantize: str | None = None,
) -> EvalResult:
    """Score ``base`` (+ ``adapters``) on a JSONL file: on causal-lm data the perplexity (``{"text"}`` rows:
    over the whole text; ``{"prompt", "completion"}`` rows: over the completion given the prompt) and, when
    every row has a prompt, the exact match of greedy completions; on seq-cls data the label accuracy; on
    preference pairs, the preferred-answer rate and mean reward margin (``evaluate_pairs``).

    ``base=None`` with adapters: the base they are pinned to, found by fingerprint."""
    from tqdm.auto import tqdm

    from ..training.data import read_jsonl
    from ..training.fit import hf_progress
    from ..training.preferences import is_pairs_file

    if is_pairs_file(data):
        return evaluate_pairs(
            base,
            data,
            adapters,
            weights=weights,
            batch_size=batch_size,
            allow_base_mismatch=allow_base_mismatch,
            limit=limit,
            progress=progress,
            quantize=quantize,
            resolver=resolver,
        )
    rows = read_jsonl(data, task)[:limit]
    with hf_progress(progress):
        model, tokenizer = _load(base, adapters, task, weights, revision, allow_base_mismatch, resolver, quantize)
    if hasattr(model, "eval"):
        model.eval()
    if task == "causal-lm":
        return _causal_lm(model, tokenizer, rows, batch_size, max_new_tokens, progress)
    bar = tqdm(total=len(rows), desc="evaluating", unit="row", disable=not progress)
    names = getattr(model, "label_names", None) or _label_names(adapters, model)
    predictions = _classify(model, tokenizer, rows, batch_size, names, bar)
    bar.close()
    gold = [str(r["label"]) if isinstance(r["label"], str) or not names else names[r["label"]] for r in rows]
    hits = sum(p == g for p, g in zip(predictions, gold, strict=False))
    return EvalResult(n=len(rows), accuracy=hits / len(rows), predictions=predictions)


def _causal_lm(
    model: Any, tokenizer: Any, rows: list[dict], batch_size: int, max_new_tokens: int, progress: bool
) -> EvalResult:
    """Perplexity of every row; exact match too when every row is a prompt with its expected completion."""
    from tqdm.auto import tqdm

    from ..training.data import format_prompt
    from .perplexity import perplexity

    prompted = all("prompt" in r for r in rows)
    bar = tqdm(total=len(rows) * (2 if prompted else 1), desc="evaluating", unit="row", disable=not progress)
    try:
        value, tokens = perplexity(model, tokenizer, rows, batch_size=batch_size, progress=bar)
    except AdapterError:
        bar.close()
        raise
    found = EvalResult(n=len(rows), perplexity=value, tokens=tokens)
    if prompted:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            prompts = [format_prompt(tokenizer, r["prompt"]) for r in chunk]
            found.predictions += greedy_batch(model, tokenizer, prompts, max_new_tokens)
            bar.update(len(chunk))
        hits = sum(normalise(p) == normalise(r["completion"]) for p, r in zip(found.predictions, rows, strict=False))
        found.exact_match = hits / len(rows)
    bar.close()
    return found


def _classify(
    model: Any, tokenizer: Any, rows: list[dict], batch_size: int, names: list[str] | None, bar: Any
) -> list[str]:
    import torch

    found: list[str] = []
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            enc = tokenizer([r["text"] for r in chunk], padding=True, truncation=True, return_tensors="pt")
            ids = _logits(model, **enc).argmax(-1).tolist()
            found += [names[i] if names and i < len(names) else str(i) for i in ids]
            bar.update(len(chunk))
    return found


def _adapter_beta(adapters: Sequence[str | Path]) -> float:
    """The beta an adapter was trained with (its card), else DPO's default."""
    from ..card import read_card
    from ..training.objectives import get_objective

    for adapter in adapters:
        card = read_card(Path(adapter))
        beta = card and ((card.hub.get("objective") or {}).get("beta"))
        if beta:
            return float(beta)
    return float(get_objective("dpo").default_beta)


def evaluate_pairs(
    base: str | Path | None,
    data: str | Path,
    adapters: Sequence[str | Path] = (),
    *,
    weights: Sequence[float] | None = None,
    batch_size: int = 8,
    allow_base_mismatch: bool = False,
    limit: int | None = None,
    progress: bool = True,
    quantize: str | None = None,
    beta: float | None = None,
    resolver: Resolver | None = None,
) -> EvalResult:
    """Preferred-answer rate of ``base`` (+ ``adapters``) on preference pairs, and the mean reward margin
    against the base alone (the DPO reference); ``beta`` defaults to the adapter's own. A reward adapter
    (``--objective reward``) is scored by its pairwise accuracy instead (``evaluate_reward_pairs``)."""
    from tqdm.auto import tqdm

    from ..runtime.stack import load_stack
    from ..training.fit import hf_progress
    from ..training.preferences import pair_logps, read_pairs, score_pairs

    if _reward_adapters(adapters) is not None:
        return evaluate_reward_pairs(
            base,
            data,
            adapters,
            batch_size=batch_size,
            allow_base_mismatch=allow_base_mismatch,
            limit=limit,
            progress=progress,
            quantize=quantize,
            resolver=resolver,
        )
    rows = read_pairs(data)[:limit]
    with hf_progress(progress):
        if base is None and not adapters:
            raise AdapterError("evaluating a base alone needs --base")
        stack = load_stack(
            None if base is None else str(base),
            [str(a) for a in adapters],
            weights=weights,
            task="causal-lm",
            allow_base_mismatch=allow_base_mismatch,
            quantize=quantize,
            resolver=resolver,
        )
    stack.model.eval()
    bar = tqdm(total=len(rows) * (2 if adapters else 1), desc="scoring pairs", unit="pair", disable=not progress)
    policy = pair_logps(stack, stack.tokenizer, rows, batch_size, progress=bar)
    beta = beta if beta is not None else _adapter_beta([e.path for e in stack.entries if e.path is not None])
    reference = None
    if adapters:
        stack.detach_all()
        reference = pair_logps(stack, stack.tokenizer, rows, batch_size, progress=bar)
    bar.close()
    found = score_pairs(policy, reference, beta)
    return EvalResult(
        n=found.n, preferred_rate=found.preferred_rate, reward_margin=found.reward_margin, beta=found.beta
    )


def _reward_adapters(adapters: Sequence[str | Path]) -> int | None:
    """The token limit a (local) adapter trained with ``--objective reward`` was trained under; None for others."""
    from ..card import read_card

    for adapter in adapters:
        card = read_card(Path(adapter)) if Path(adapter).is_dir() else None
        if card and (card.hub.get("objective") or {}).get("name") == "reward":
            return int((card.hub.get("training") or {}).get("max_length") or 512)
    return None


def evaluate_reward_pairs(
    base: str | Path | None,
    data: str | Path,
    adapters: Sequence[str | Path],
    *,
    batch_size: int = 8,
    allow_base_mismatch: bool = False,
    limit: int | None = None,
    progress: bool = True,
    quantize: str | None = None,
    resolver: Resolver | None = None,
) -> EvalResult:
    """Pairwise accuracy of a reward adapter on preference pairs: the share where chosen out-scores rejected."""
    from ..runtime.stack import load_stack
    from ..training.fit import hf_progress
    from ..training.preferences import read_pairs
    from ..training.reward_model import pair_rewards, pairwise_accuracy

    rows = read_pairs(data)[:limit]
    with hf_progress(progress):
        stack = load_stack(
            None if base is None else str(base),
            [str(a) for a in adapters],
            task="seq-cls",
            allow_base_mismatch=allow_base_mismatch,
            quantize=quantize,
            resolver=resolver,
        )
    stack.model.eval()
    chosen, rejected = pair_rewards(stack, stack.tokenizer, rows, batch_size, _reward_adapters(adapters) or 512)
    return EvalResult(n=len(rows), pairwise_accuracy=pairwise_accuracy(chosen, rejected))

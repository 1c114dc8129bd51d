"""Perplexity of a base, or a base + stacked adapters, on held-out text: exp of the mean negative
log-likelihood per predicted token.

Why its own module: which tokens count is the training rule, not a second one. Rows are tokenised by
``adapters.training.data.encode_row``, exactly as ``hub train`` tokenises them, so a ``{"text"}`` row is
scored over its whole text (and the EOS that ends it) and a ``{"prompt", "completion"}`` row over the
completion's tokens given the rendered prompt; the perplexity is then ``exp`` of the training loss on the
same rows. Rows are right-padded in batches and padding carries the ignore label, so a batch scores the same
as its rows one at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..errors import AdapterError

__all__ = ["MAX_TOKENS", "perplexity", "token_nll"]

MAX_TOKENS = 2048  # a row longer than this is cut, as training cuts it at its max_length


def _device(model: Any) -> Any:
    inner = getattr(model, "model", model)
    try:
        return next(iter(inner.parameters())).device
    except (AttributeError, StopIteration, TypeError):
        return None


def token_nll(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict],
    *,
    batch_size: int = 8,
    max_length: int = MAX_TOKENS,
    progress: Any = None,
) -> tuple[float, int]:
    """(sum of the negative log-likelihoods of the scored tokens, how many tokens were scored)."""
    import torch
    import torch.nn.functional as F

    from ..training.data import IGNORE_INDEX, Collator, encode_row, pad_id
    from .forward import logits_of

    collate = Collator(pad_id(tokenizer))
    device = _device(model)
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = collate([encode_row(tokenizer, r, "causal-lm", max_length) for r in chunk])
            if device is not None:
                batch = {k: v.to(device) for k, v in batch.items()}
            logits = logits_of(model, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            width = batch["input_ids"].shape[1]
            logits = logits[:, logits.shape[1] - width :]  # counted from the end: virtual tokens come first
            predicted = logits[:, :-1].float()  # position t predicts token t + 1
            labels = batch["labels"][:, 1:]
            nll = F.cross_entropy(
                predicted.reshape(-1, predicted.shape[-1]),
                labels.reshape(-1),
                ignore_index=IGNORE_INDEX,
                reduction="sum",
            )
            total += float(nll.double())
            count += int((labels != IGNORE_INDEX).sum())
            if progress is not None:
                progress.update(len(chunk))
    return total, count


def perplexity(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict],
    *,
    batch_size: int = 8,
    max_length: int = MAX_TOKENS,
    progress: Any = None,
) -> tuple[float, int]:
    """``(exp(mean NLL), tokens scored)`` over every scored token of ``rows`` (tokens are averaged, not rows)."""
    total, count = token_nll(model, tokenizer, rows, batch_size=batch_size, max_length=max_length, progress=progress)
    if count == 0:
        raise AdapterError("no token to score: every completion is empty or was cut away")
    return math.exp(total / count), count

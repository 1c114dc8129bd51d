"""A handful of examples of a new task, encoded once and scored in one batched forward pass.

Why its own module: ``hub find`` scores every candidate and ``hub compose`` scores every optimiser step on
the same few examples, so they are read, checked and tokenised once (with the training rules of
``adapters.training.data``: chat template, loss on the completion only) and each score is a single forward pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = ["Examples", "encode_examples", "read_examples", "score"]


@dataclass(frozen=True)
class Examples:
    """Validated ``{"prompt", "completion"}`` rows of one file and the sha256 of its bytes (for lineage)."""

    rows: list[dict]
    sha256: str
    source: str


def read_examples(path: str | Path) -> Examples:
    """The examples file, or one-line ``AdapterError`` (missing, empty, a bad line, no prompt/completion)."""
    from ..training.data import read_jsonl

    path = Path(path)
    if not path.is_file():
        raise AdapterError(f"{path}: no such examples file")
    rows = read_jsonl(path, "causal-lm")
    if not rows:
        raise AdapterError(f'{path}: no examples (expected JSONL lines of {{"prompt", "completion"}})')
    for lineno, row in enumerate(rows, 1):
        if "prompt" not in row:
            raise AdapterError(f'{path}:{lineno}: examples need {{"prompt": str, "completion": str}}')
    return Examples(rows, "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest(), str(path))


def encode_examples(tokenizer: Any, examples: Examples, max_length: int = 256) -> dict:
    """Right-padded ``input_ids``, ``attention_mask`` and completion-only ``labels`` for one forward pass."""
    from ..training.data import Collator, encode_rows, pad_id

    return Collator(pad_id(tokenizer))(encode_rows(tokenizer, examples.rows, "causal-lm", max_length))


def score(model: Any, batch: dict) -> tuple[float, float]:
    """``(mean loss, exact match)`` of the completions: loss averaged per example then over examples; an
    example matches when the greedy choice at every completion token is that token (teacher forced)."""
    import torch

    with torch.no_grad():
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        logits = out.logits if hasattr(out, "logits") else out[0]
        width = batch["input_ids"].shape[1]
        logits = logits[:, logits.shape[1] - width :]  # methods that prepend virtual tokens: keep the text's
        shifted, labels = logits[:, :-1].float(), batch["labels"][:, 1:]
        mask = labels != -100
        losses = torch.nn.functional.cross_entropy(shifted.transpose(1, 2), labels.clamp(min=0), reduction="none")
        per_example = (losses * mask).sum(1) / mask.sum(1).clamp(min=1)
        hits = ((shifted.argmax(-1) == labels) | ~mask).all(1)
    return float(per_example.mean()), float(hits.float().mean())

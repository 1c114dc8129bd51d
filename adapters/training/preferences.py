"""Preference pairs ``{"prompt", "chosen", "rejected"}``: read them strictly, and score a model on them.

Why its own module: training (DPO) and evaluation must read the same rows under the same rules, and a
bad row (missing field, chosen equal to rejected, empty file) must be named before a model loads or a
file is written. Scoring renders each pair exactly as training does (``adapters.training.data.encode_row``: the
chat template's user turn, then the assistant turn) and sums the completion's token log-likelihoods.

Figures
    preferred-answer rate  share of pairs where the model gives ``chosen`` a higher log-likelihood than
                           ``rejected``
    mean reward margin     DPO's implicit reward difference, ``beta * ((c - c_ref) - (r - r_ref))``, with the
                           base alone (adapters detached) as the reference
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from .data import json_lines, row_error

__all__ = ["PreferenceResult", "is_pairs_file", "pair_logps", "read_pairs", "score_pairs"]

FIELDS = ("prompt", "chosen", "rejected")


def read_pairs(path: str | Path) -> list[dict]:
    """Every row checked; the first bad one raises ``AdapterError`` naming ``file:line``."""
    path = Path(path)
    rows: list[dict] = []
    for lineno, row in json_lines(path):
        if not isinstance(row, dict):
            raise row_error(path, lineno, f"expected a JSON object, got {type(row).__name__}")
        for name in FIELDS:
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise row_error(
                    path,
                    lineno,
                    f'missing or empty "{name}" (pairs need {{"prompt", "chosen", "rejected"}} as non-empty strings)',
                )
        if row["chosen"].strip() == row["rejected"].strip():
            raise row_error(path, lineno, '"chosen" equals "rejected"; a pair must prefer one answer to another')
        rows.append({name: row[name] for name in FIELDS})
    if not rows:
        raise AdapterError(f"{path}: no preference pairs (the file is empty)")
    return rows


def is_pairs_file(path: str | Path) -> bool:
    """True when the first record of a JSONL file is a preference pair (has ``chosen`` and ``rejected``)."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and "chosen" in row and "rejected" in row
    except (OSError, ValueError):
        return False
    return False


def _logits(model: Any, **inputs: Any):
    out = model(**inputs)
    return out.logits if hasattr(out, "logits") else out[0]


def pair_logps(
    model: Any, tokenizer: Any, rows: Sequence[dict], batch_size: int = 8, max_length: int = 512, progress: Any = None
) -> tuple[list[float], list[float]]:
    """Summed log-likelihood of each pair's chosen and rejected answer after its prompt."""
    import torch

    from .data import IGNORE_INDEX, Collator, encode_row, pad_id

    collate = Collator(pad_id(tokenizer))
    found: list[float] = []
    items = [(r["prompt"], r[side]) for r in rows for side in ("chosen", "rejected")]
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            batch = collate(
                [encode_row(tokenizer, {"prompt": p, "completion": c}, "causal-lm", max_length) for p, c in chunk]
            )
            logits = _logits(model, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            labels = batch["labels"][:, 1:]
            logprobs = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            mask = labels != IGNORE_INDEX
            picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            found += (picked * mask).sum(-1).tolist()
            if progress is not None:
                progress.update(len(chunk) // 2)
    return found[0::2], found[1::2]


@dataclass
class PreferenceResult:
    n: int
    preferred_rate: float
    reward_margin: float
    beta: float
    chosen_logps: list[float] = field(default_factory=list, repr=False)
    rejected_logps: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "preferred_rate": self.preferred_rate,
            "reward_margin": self.reward_margin,
            "beta": self.beta,
        }


def score_pairs(
    policy: tuple[list[float], list[float]], reference: tuple[list[float], list[float]] | None, beta: float
) -> PreferenceResult:
    """The two figures from log-likelihoods (no reference: the policy is the base, margin 0)."""
    chosen, rejected = policy
    ref_chosen, ref_rejected = reference or policy
    n = len(chosen)
    rate = sum(c > r for c, r in zip(chosen, rejected, strict=False)) / n
    margin = (
        sum(
            beta * ((c - rc) - (r - rr))
            for c, r, rc, rr in zip(chosen, rejected, ref_chosen, ref_rejected, strict=False)
        )
        / n
    )
    return PreferenceResult(n, rate, margin, beta, list(chosen), list(rejected))

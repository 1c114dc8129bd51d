"""Several tasks x several adapters in one table: the base loads once, each adapter is attached in turn.

Why: comparing single-task adapters, a combination of them and a composed one on every task is how one
judges reuse; loading the base once per cell would cost more than the evaluation. Scores are the same
exact match as ``adapters.evaluation.heldout`` (same prompts, same greedy loop, same normalisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import AdapterError
from ..resolver import Resolver, resolve_adapter

__all__ = ["evaluate_matrix"]

BASE_COLUMN = "base"


def _exact_match(model, tokenizer, rows: list[dict], batch_size: int, max_new_tokens: int) -> float:
    from ..training.data import format_prompt
    from .heldout import greedy_batch, normalise

    hits = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        found = greedy_batch(model, tokenizer, [format_prompt(tokenizer, r["prompt"]) for r in chunk], max_new_tokens)
        hits += sum(normalise(p) == normalise(r["completion"]) for p, r in zip(found, chunk, strict=False))
    return hits / len(rows)


def evaluate_matrix(
    base: str | Path | None,
    tasks: Sequence[str | Path],
    adapters: Sequence[str | Path],
    *,
    include_base: bool = False,
    batch_size: int = 8,
    max_new_tokens: int = 16,
    limit: int | None = None,
    allow_base_mismatch: bool = False,
    progress: bool = True,
    resolver: Resolver | None = None,
) -> dict[str, dict[str, float]]:
    """``{task file: {column: exact match}}``; one column per adapter (each alone), plus ``base``."""
    from tqdm.auto import tqdm

    from ..base.load import base_dir_for, load_base, pin_for
    from ..runtime.stack import AdapterStack, adapter_front, adapter_label
    from ..training.data import read_jsonl

    data = {str(t): read_jsonl(t, "causal-lm")[:limit] for t in tasks}
    for name, rows in data.items():
        if not rows or not all("prompt" in r for r in rows):
            raise AdapterError(f'{name}: exact match needs {{"prompt", "completion"}} records')
    dirs = [resolve_adapter(a, resolver) for a in adapters]
    if base is None and not dirs:
        raise AdapterError("evaluating a base alone needs --base")
    base_dir = base_dir_for(base, [adapter_front(d) for d in dirs], [str(d) for d in dirs], resolver)
    model, tokenizer = load_base(base_dir, task="causal-lm")
    stack = AdapterStack(model, tokenizer, pin_for(base_dir), "causal-lm")
    for d in dirs:  # every pin is checked before any cell is computed
        stack.check(d, allow_base_mismatch)
    columns: list[tuple[str, Path | None]] = ([(BASE_COLUMN, None)] if include_base else []) + [
        (adapter_label(a, d), d) for a, d in zip(adapters, dirs, strict=False)
    ]
    table: dict[str, dict[str, float]] = {name: {} for name in data}
    bar = tqdm(total=len(columns) * len(data), desc="evaluating", unit="cell", disable=not progress)
    for label, directory in columns:
        if directory is not None:
            stack.add(directory, name=label, pin_checked=True)
        try:
            for name, rows in data.items():
                table[name][label] = _exact_match(model, tokenizer, rows, batch_size, max_new_tokens)
                bar.update(1)
        finally:
            stack.detach_all()
    bar.close()
    return table

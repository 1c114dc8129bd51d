"""Eval sets that live on a hub as dataset repos: ``NS/NAME@VERSION[:SPLIT]`` references, the one rule for
which file of a pulled dataset holds a split (``hub worker`` and ``hub train --eval-data`` both use it), and
the ``model-index`` entry a trained adapter's card gets so the hub verifies its claim."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_rules import METRICS, is_repo_id, is_version, model_index_entry

from .errors import BadReference, HubError

DEFAULT_SPLIT = "test"
TASK_TYPES = {"causal-lm": "text-generation", "seq-cls": "text-classification"}


@dataclass(frozen=True)
class EvalSet:
    dataset: str
    version: str
    split: str = DEFAULT_SPLIT


def parse_eval_set(text: str) -> EvalSet | None:
    """``ns/name@1.0.0`` or ``ns/name@1.0.0:validation``; None when ``text`` is not such a reference."""
    ref, _, split = text.partition(":")
    name, at, version = ref.partition("@")
    if not is_repo_id(name) or Path(text).exists():
        return None
    if not at or not is_version(version):
        raise BadReference(f"{text}: an eval set on the hub is pinned: NS/NAME@VERSION[:SPLIT]")
    return EvalSet(name, version, split or DEFAULT_SPLIT)


def split_file(folder: Path, split: str) -> Path:
    """The split's file in a pulled dataset: ``{split}.jsonl``, ``data/{split}.jsonl``, or the one file
    whose name starts with the split (``test-00000-of-00001.jsonl``)."""
    for candidate in (folder / f"{split}.jsonl", folder / "data" / f"{split}.jsonl"):
        if candidate.is_file():
            return candidate
    found = sorted(p for p in folder.rglob("*.jsonl") if p.name.startswith(split))
    if len(found) == 1:
        return found[0]
    raise HubError(f"the dataset has no {split}.jsonl (nor one {split}*.jsonl file)")


def declare(
    front: dict[str, Any], eval_set: EvalSet, task: str, metrics: dict[str, float], name: str
) -> dict[str, Any]:
    """``front`` with a ``model-index`` result claiming the headline metric of ``metrics``: the first the hub's
    evaluator measures, in ``METRICS`` order (exact match before perplexity: one claim, one job to verify)."""
    headline = next((k for k in METRICS if metrics.get(k) is not None), None)
    if headline is None:
        return front
    claimed: dict[str, float | None] = {headline: round(float(metrics[headline]), 6)}
    entry = model_index_entry(
        name, TASK_TYPES.get(task, task), eval_set.dataset, eval_set.version, eval_set.split, claimed
    )
    return {**front, "model-index": [entry]}

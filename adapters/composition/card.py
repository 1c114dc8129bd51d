"""The card of a composed adapter: every parent with its weight, the examples' hash, optimiser and scores.

Kept apart from ``adapters.composition.from_examples`` so the optimisation reads without card plumbing; the front matter
follows the same schema as trained and combined adapters, so the hub indexes it like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

__all__ = ["write_compose_card"]


def _lineage(candidate: Any, weight: float, method: str) -> dict:
    from ..base.fingerprint import fingerprint

    repo, _, version = candidate.label.partition("@")
    return {"id": repo, "version": version or None, "commit": candidate.commit, "weight": float(weight),
            "method": method, "fingerprint": fingerprint(candidate.path)}


def write_compose_card(out: Path, *, pin: Any, config: dict, parents: Sequence[Any], weights: Sequence[float],
                       examples: Any, settings: dict, scores: dict, skipped: Sequence[Any]) -> Path:
    from ..card import write_card
    from ..registry import method_for_dir, registry

    spec = registry.detect(config)  # what the written files are, read back as any saved adapter is
    method = spec.name
    lineage = [_lineage(c, w, method_for_dir(c.path).name) for c, w in zip(parents, weights)]
    front = {
        "library_name": "peft",
        "base_model": pin.id,
        "base_model_relation": "adapter",
        "tags": ["adapter-hub", method, "causal-lm", "composed"],
        "adapter_hub": {
            "kind": "adapter", "method": method, "task": "causal-lm", "base": pin.to_dict(),
            "method_options": spec.options_from_config(config),
            "lineage": lineage,
            "composition": {"examples": {"sha256": examples.sha256, "count": len(examples.rows)},
                            **settings, "scores": scores,
                            "skipped": [{"id": s.label, "reason": s.reason} for s in skipped]},
            "metrics": {"examples_loss": scores["loss"], "examples_exact_match": scores["exact_match"]},
        },
    }
    rows = "\n".join(f"| {c.label} | {w:+.3f} |" for c, w in zip(parents, weights))
    body = (f"# Composed adapter\n\nWeighted sum of {len(parents)} adapters for a new task, found with "
            f"{settings['optimizer']} on {len(examples.rows)} examples ({settings['steps']} steps, "
            f"L1 {settings['l1']}).\n\n| parent | weight |\n|---|---|\n{rows}\n\n"
            f"Examples: loss {scores['loss']:.4f}, exact match {scores['exact_match']:.2f}.\n")
    return write_card(out, front, body)

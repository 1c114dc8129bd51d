"""The card of a composed adapter: every parent with its weight, the examples' hash, optimiser, metric, split and scores.

Kept apart from ``adapters.composition.from_examples`` so the optimisation reads without card plumbing; the front matter
follows the same schema as trained and combined adapters, so the hub indexes it like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["write_compose_card"]


def _lineage(candidate: Any, weight: float, method: str) -> dict:
    from ..base.fingerprint import fingerprint

    repo, _, version = candidate.label.partition("@")
    return {
        "id": repo,
        "version": version or None,
        "commit": candidate.commit,
        "weight": float(weight),
        "method": method,
        "fingerprint": fingerprint(candidate.path),
    }


def write_compose_card(
    out: Path,
    *,
    pin: Any,
    config: dict,
    parents: Sequence[Any],
    weights: Sequence[float],
    examples: Any,
    settings: dict,
    selection: dict,
    overall: Any,
    skipped: Sequence[Any],
) -> Path:
    """``selection``: the metric, the split, which was written ("mix" or "best single") and every score."""
    from ..card import write_card
    from ..registry import method_for_dir, registry

    spec = registry.detect(config)  # what the written files are, read back as any saved adapter is
    method = spec.name
    lineage = [_lineage(c, w, method_for_dir(c.path).name) for c, w in zip(parents, weights, strict=True)]
    metrics = {"examples_loss": overall.loss, "examples_exact_match": overall.exact_match}
    held = selection["scores"]["best_single" if selection["chosen"] == "best single" else "mix"]["held_out"]
    if held:
        metrics |= {"held_out_loss": held["loss"], "held_out_exact_match": held["exact_match"]}
    front = {
        "library_name": "peft",
        "base_model": pin.id,
        "base_model_relation": "adapter",
        "tags": ["adapter-hub", method, "causal-lm", "composed"],
        "adapter_hub": {
            "kind": "adapter",
            "method": method,
            "task": "causal-lm",
            "base": pin.to_dict(),
            "method_options": spec.options_from_config(config),
            "lineage": lineage,
            "composition": {
                "examples": {"sha256": examples.sha256, "count": len(examples.rows)},
                **settings,
                **selection,
                "skipped": [{"id": s.label, "reason": s.reason} for s in skipped],
            },
            "metrics": metrics,
        },
    }
    return write_card(out, front, _body(parents, weights, examples, settings, selection, overall))


def _body(
    parents: Sequence[Any], weights: Sequence[float], examples: Any, settings: dict, selection: dict, overall: Any
) -> str:
    split, scores, metric = selection["split"], selection["scores"], selection["metric"]

    def cell(part: dict | None) -> str:
        return "-" if part is None else f"{part[metric]:.4f}" if metric == "loss" else f"{part[metric]:.2f}"

    if selection["chosen"] == "best single":
        head = (
            f"# Composed adapter: the best single candidate\n\n{parents[0].label}, unchanged: on the held-out "
            f"examples it scored better than the weighted mix of the candidates, so compose returned it.\n"
        )
    else:
        rows = "\n".join(f"| {c.label} | {w:+.3f} |" for c, w in zip(parents, weights, strict=True))
        head = (
            f"# Composed adapter\n\nWeighted sum of {len(parents)} adapters for a new task, found with "
            f"{settings['optimizer']} ({settings['steps']} steps, L1 {settings['l1']}).\n\n"
            f"| parent | weight |\n|---|---|\n{rows}\n"
        )
    table = (
        f"| | {metric} on the {split['fit']} fitted examples | {metric} on the {split['held_out']} held-out "
        f"examples |\n|---|---|---|\n"
        f"| mix | {cell(scores['mix']['fit'])} | {cell(scores['mix']['held_out'])} |\n"
        f"| best single ({scores['best_single']['adapter']}) | {cell(scores['best_single']['fit'])} | "
        f"{cell(scores['best_single']['held_out'])} |\n"
    )
    note = f"\n{selection['note']}\n" if selection.get("note") else ""
    return (
        f"{head}\nChosen by {metric} on {len(examples.rows)} examples ({examples.sha256}), split by seed "
        f"{split['seed']} (held-out rows {split['held_out_rows']}):\n\n{table}{note}\n"
        f"All examples: loss {overall.loss:.4f}, exact match {overall.exact_match:.2f}.\n"
    )

"""Choosing what ``hub compose`` returns: the metric, the held-out part of the examples, and the comparison.

Why its own module: the optimiser fits weights on some of the user's examples; whether that mix is better than
simply using the best single candidate can only be told on examples it never saw, and on the metric the user
reads (exact match for short answers), not on the loss it minimised. The split is deterministic by seed so a
rerun chooses the same way, and it has floors so five examples still leave something on each side.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import AdapterError
from .few_shot import Examples, score

__all__ = [
    "HOLDOUT_FRACTION",
    "METRICS",
    "Part",
    "Split",
    "choose",
    "default_metric",
    "error",
    "note_for",
    "overall_of",
    "shown",
    "split_examples",
]

METRICS = ("exact_match", "loss")
HOLDOUT_FRACTION = 0.25  # a quarter of the examples choose; the rest are fitted
MIN_HELD_OUT = 2  # hold out at least two rows when the examples allow it ...
MIN_FIT = 2  # ... but always leave at least two rows to fit on
SHORT_ANSWER_WORDS = 5  # completions this short are answers exact match can judge


@dataclass(frozen=True)
class Part:
    """Loss and exact match of one set of weights on one part of the examples."""

    loss: float
    exact_match: float

    def to_dict(self) -> dict:
        return {"loss": self.loss, "exact_match": self.exact_match}


@dataclass(frozen=True)
class Split:
    """Which example rows the optimiser fits on and which only choose (indices into the examples file)."""

    fit: Examples
    held_out: Examples | None
    fit_rows: tuple[int, ...]
    held_out_rows: tuple[int, ...]
    fraction: float
    seed: int

    def to_dict(self) -> dict:
        return {
            "fit": len(self.fit_rows),
            "held_out": len(self.held_out_rows),
            "fraction": self.fraction,
            "seed": self.seed,
            "held_out_rows": list(self.held_out_rows),
        }


def default_metric(examples: Examples) -> str:
    """``exact_match`` when every completion is a short answer (at most ``SHORT_ANSWER_WORDS`` words), where
    matching it exactly is what the user checks; ``loss`` for longer text, where exact match is nearly always 0."""
    short = all(len(str(r.get("completion", "")).split()) <= SHORT_ANSWER_WORDS for r in examples.rows)
    return "exact_match" if short else "loss"


def held_out_count(n: int, fraction: float) -> int:
    """``ceil(fraction * n)``, at least ``MIN_HELD_OUT``, leaving at least ``MIN_FIT``; 0 when ``fraction`` is 0."""
    if fraction <= 0:
        return 0
    return max(0, min(max(MIN_HELD_OUT, math.ceil(fraction * n)), n - MIN_FIT))


def split_examples(examples: Examples, fraction: float = HOLDOUT_FRACTION, seed: int = 0) -> Split:
    """The fit part and the held-out part, drawn by ``seed``; no held-out part when there are too few rows."""
    if not 0 <= fraction < 1:
        raise AdapterError(f"--holdout must be in [0, 1), got {fraction}")
    n = len(examples.rows)
    held = tuple(sorted(random.Random(seed).sample(range(n), held_out_count(n, fraction))))
    fit = tuple(sorted(set(range(n)) - set(held)))

    def part(rows: Sequence[int], name: str) -> Examples:
        return Examples([examples.rows[i] for i in rows], examples.sha256, f"{examples.source} ({name})")

    return Split(part(fit, "fit"), part(held, "held out") if held else None, fit, held, fraction, seed)


def error(part: Part, metric: str) -> float:
    """Lower is better: the loss, or the share of examples not matched exactly."""
    return part.loss if metric == "loss" else 1.0 - part.exact_match


def shown(single: Part, mix: Part, metric: str) -> str:
    """``exact match 0.40 vs 0.20``: two scores on one metric, as the terminal says them."""
    if metric == "loss":
        return f"loss {single.loss:.4f} vs {mix.loss:.4f}"
    return f"exact match {single.exact_match:.2f} vs {mix.exact_match:.2f}"


def check_metric(metric: str | None, examples: Examples) -> str:
    if metric in (None, "auto"):
        return default_metric(examples)
    if metric not in METRICS:
        raise AdapterError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    return metric


def _scored(model: Any, fused: Any, weights: Sequence[float], batch: dict | None) -> Part | None:
    if batch is None:
        return None
    fused.set_weights(weights)
    return Part(*score(model, batch))


def choose(
    model: Any, fused: Any, mix: Any, kept: Sequence[Any], fit_batch: dict, held_batch: dict | None, metric: str
) -> dict:
    """The mix and every candidate alone on the held-out part (the fit part when there is none); the best
    single candidate by ``metric`` there, ties by loss; it wins only when strictly better than the mix."""
    n = len(kept)
    one_hot = [[1.0 if i == j else 0.0 for i in range(n)] for j in range(n)]
    judge = held_batch if held_batch is not None else fit_batch
    singles = [_scored(model, fused, w, judge) for w in one_hot]
    best = min(range(n), key=lambda i: (error(singles[i], metric), singles[i].loss))
    mix_held = _scored(model, fused, mix.weights, held_batch)
    single = {
        "index": best,
        "fit": _scored(model, fused, one_hot[best], fit_batch),
        "held_out": singles[best] if held_batch is not None else None,
    }
    wins = mix_held is not None and error(singles[best], metric) < error(mix_held, metric)
    return {
        "mix": {"fit": mix.fit, "held_out": mix_held},
        "single": single,
        "single_wins": wins,
        "singles_held_out": singles if held_batch is not None else [],
    }


def overall_of(fit: Part, held: Part | None, split: Split) -> Part:
    """The written adapter on all the examples: both parts' means weighted by their sizes."""
    if held is None:
        return fit
    a, b = len(split.fit_rows), len(split.held_out_rows)
    return Part((a * fit.loss + b * held.loss) / (a + b), (a * fit.exact_match + b * held.exact_match) / (a + b))


def note_for(chosen: dict, split: Split, metric: str, keep_mix: bool, labels: list[str]) -> str | None:
    """The one line the user reads when the choice is not simply "the mix won"."""
    if chosen["mix"]["held_out"] is None:
        return (
            f"no held-out examples ({len(split.fit_rows)} examples, --holdout {split.fraction}): "
            f"the mix was chosen on the examples it was fitted on"
        )
    if not chosen["single_wins"]:
        return None
    single = chosen["single"]
    said = (
        f"the best single candidate {labels[single['index']]} beats the mix on {len(split.held_out_rows)} "
        f"held-out examples: {shown(single['held_out'], chosen['mix']['held_out'], metric)}"
    )
    return said + (
        "; kept the mix (--keep-mix)" if keep_mix else "; wrote that candidate instead (--keep-mix keeps the mix)"
    )

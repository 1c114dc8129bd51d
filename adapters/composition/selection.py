"""Choosing what ``hub compose`` returns: the metric, the held-out part of the examples, and the comparison.

Why its own module: the optimiser fits weights on some of the user's examples; whether that mix is better than
simply using the best single candidate can only be told on examples it never saw, and on the metric the user
reads (exact match for short answers), not on the loss it minimised. The split is deterministic by seed so a
rerun chooses the same way, and it has floors so five examples still leave something on each side.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Sequence

from ..errors import AdapterError
from .few_shot import Examples

__all__ = ["METRICS", "HOLDOUT_FRACTION", "Part", "Split", "default_metric", "split_examples", "error", "shown"]

METRICS = ("exact_match", "loss")
HOLDOUT_FRACTION = 0.25  # a quarter of the examples choose; the rest are fitted
MIN_HELD_OUT = 2         # hold out at least two rows when the examples allow it ...
MIN_FIT = 2              # ... but always leave at least two rows to fit on
SHORT_ANSWER_WORDS = 5   # completions this short are answers exact match can judge


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
        return {"fit": len(self.fit_rows), "held_out": len(self.held_out_rows), "fraction": self.fraction,
                "seed": self.seed, "held_out_rows": list(self.held_out_rows)}


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

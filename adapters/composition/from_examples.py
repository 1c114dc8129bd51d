"""Find and compose the community's adapters for a new task from a handful of examples (LoraHub-style).

``score_candidates`` ranks saved adapters by their loss and exact match on the examples: the base loads
once, each candidate is attached, scored in one forward pass and detached. ``compose`` weights several
low-rank candidates into ONE LoRA gradient-free, as LoraHub (Huang et al. 2023) does: Nevergrad's
optimiser (NGOpt, or any optimiser in its registry) minimises the examples' loss plus ``l1 * sum |w|``.
The base and every candidate's factors load once; each step only sets the weights of fused hooks
(``adapters.composition.deltas``). Candidates of different ranks or target modules combine exactly, ranks
concatenated. The result is a plain PEFT LoRA whose card lists every parent with its weight.

Only local directories come in here: hub references are resolved by the caller (the hub client).
Which candidates can be composed is read from each method's ``low_rank_factors`` capability.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..errors import AdapterError
from .few_shot import Examples, encode_examples, score

__all__ = ["Candidate", "Scored", "Skipped", "FindResult", "ComposeResult", "score_candidates", "compose"]

BOUND = 1.5  # LoraHub's weight range [-1.5, 1.5]


@dataclass(frozen=True)
class Candidate:
    """One adapter to consider: a local directory, the label reports use (``ns/name@version``), and the
    version's commit id when it came from a hub."""

    label: str
    path: Path
    commit: str | None = None
    downloads: int | None = None


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    method: str
    task: str | None
    loss: float
    exact_match: float


@dataclass(frozen=True)
class Skipped:
    label: str
    reason: str


@dataclass
class FindResult:
    """Candidates best first (lowest loss, then highest exact match), the base alone, and the skipped."""

    base_loss: float
    base_exact_match: float
    scored: list[Scored] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class ComposeResult:
    out: Path
    weights: list[float]
    loss: float
    exact_match: float
    seconds: float
    steps: int
    parents: list[Candidate]
    skipped: list[Skipped]


def _base_and_batch(base_dir: Path, examples: Examples):
    from ..base.load import load_base, pin_for

    pin = pin_for(base_dir)
    model, tokenizer = load_base(base_dir, task="causal-lm")
    return pin, model, tokenizer, encode_examples(tokenizer, examples)


def _unusable(candidate: Candidate, pin: Any, allow_base_mismatch: bool) -> str | None:
    """Why a candidate cannot be scored on this base (pin, method, task), or None."""
    from ..base.load import check_pin
    from ..registry import method_for_dir
    from ..runtime.stack import adapter_task, adapter_front

    try:
        front = adapter_front(candidate.path)
        check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=candidate.label)
        spec = method_for_dir(candidate.path)
    except AdapterError as exc:
        return str(exc)
    task = adapter_task(candidate.path, front)
    if task not in (None, "causal-lm"):
        return f"adapter {candidate.label} is for task {task}; the examples are causal-lm"
    if "causal-lm" not in spec.tasks:
        return f"method {spec.name} does not support causal-lm"
    return None


def score_candidates(base_dir: str | Path, examples: Examples, candidates: Sequence[Candidate], *,
                     allow_base_mismatch: bool = False, progress: bool = True) -> FindResult:
    """Score every candidate on ``examples`` over one loaded base; the unusable ones are skipped with why."""
    from tqdm.auto import tqdm

    from ..registry import method_for_dir
    from ..runtime.stack import AdapterStack, adapter_task, adapter_front

    pin, model, tokenizer, batch = _base_and_batch(Path(base_dir), examples)
    base_loss, base_match = score(model, batch)
    result = FindResult(base_loss, base_match)
    stack = AdapterStack(model, tokenizer, pin, "causal-lm")
    for candidate in tqdm(candidates, desc="scoring", unit="adapter", disable=not progress):
        reason = _unusable(candidate, pin, allow_base_mismatch)
        if reason is None:
            try:
                stack.add(candidate.path, name=candidate.label, pin_checked=True)
            except AdapterError as exc:
                reason = str(exc)
        if reason is not None:
            result.skipped.append(Skipped(candidate.label, reason))
            continue
        try:
            loss, match = score(model, batch)
        finally:
            stack.detach_all()
        result.scored.append(Scored(candidate, method_for_dir(candidate.path).name,
                                    adapter_task(candidate.path, adapter_front(candidate.path)), loss, match))
    result.scored.sort(key=lambda s: (s.loss, -s.exact_match))
    return result


def _factors(candidates: Sequence[Candidate], pin: Any, allow_base_mismatch: bool):
    from ..registry import method_for_dir

    kept, factors, skipped = [], [], []
    for candidate in candidates:
        reason = _unusable(candidate, pin, allow_base_mismatch)
        if reason is None:
            spec = method_for_dir(candidate.path)
            if spec.low_rank_factors is None:
                reason = f"method {spec.name} is not a sum of low-rank deltas; it cannot be composed"
            else:
                try:
                    factors.append(spec.low_rank_factors(candidate.path))
                    kept.append(candidate)
                    continue
                except AdapterError as exc:
                    reason = str(exc)
        skipped.append(Skipped(candidate.label, reason))
    return kept, factors, skipped


def _optimizer(name: str, count: int, steps: int, seed: int):
    import nevergrad as ng
    import numpy as np

    parametrization = ng.p.Array(init=np.zeros(count), lower=-BOUND, upper=BOUND)
    parametrization.random_state = np.random.RandomState(seed)
    try:
        factory = ng.optimizers.registry[name]
    except KeyError:
        raise AdapterError(f"unknown Nevergrad optimiser {name!r} (e.g. NGOpt, CMA, TwoPointsDE)") from None
    return factory(parametrization=parametrization, budget=steps, num_workers=1)


def compose(base_dir: str | Path, examples: Examples, candidates: Sequence[Candidate], out: str | Path, *,
            steps: int = 40, l1: float = 0.05, seed: int = 0, optimizer: str = "NGOpt",
            allow_base_mismatch: bool = False, progress: bool = True) -> ComposeResult:
    """Weight ``candidates`` into one LoRA for ``examples`` and write it (PEFT layout + card) to ``out``.

    The uniform average and each candidate alone are offered to the optimiser first (when ``steps`` allows),
    so the result is never worse on the examples than the best of them."""
    import numpy as np
    from tqdm.auto import tqdm

    from .deltas import FusedDeltas

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AdapterError(f"{out}: output directory is not empty")
    if steps < 1:
        raise AdapterError("--steps must be at least 1")
    started = time.perf_counter()
    pin, model, _, batch = _base_and_batch(Path(base_dir), examples)
    kept, factors, skipped = _factors(candidates, pin, allow_base_mismatch)
    if not kept:
        reasons = "; ".join(f"{s.label}: {s.reason}" for s in skipped) or "none given"
        raise AdapterError(f"no candidate can be composed ({reasons})")
    fused = FusedDeltas(model, factors)
    n = len(kept)
    opt = _optimizer(optimizer, n, steps, seed)
    seeds = [np.full(n, 1.0 / n)] + [np.eye(n)[i] for i in range(n)] if n > 1 else [np.ones(1)]
    for point in seeds[: max(0, steps - 1)]:
        opt.suggest(point)
    best: tuple[float, list[float], float, float] | None = None
    bar = tqdm(total=steps, desc="composing", unit="step", disable=not progress)
    with warnings.catch_warnings():
        # NGOpt may hand small budgets to SciPy's COBYLA, which warns about its own tolerance: not the user's concern
        warnings.filterwarnings("ignore", message=".*RHOEND.*")
        try:
            for step in range(steps):
                candidate = opt.ask()
                weights = [float(w) for w in candidate.value]
                fused.set_weights(weights)
                loss, match = score(model, batch)
                objective = loss + l1 * sum(abs(w) for w in weights)
                opt.tell(candidate, objective)
                if best is None or objective < best[0]:
                    best = (objective, weights, loss, match)
                bar.set_postfix(best=f"{best[0]:.4f}", step=step + 1)
                bar.update(1)
        finally:
            bar.close()
    _, weights, loss, match = best
    config = fused.save_peft(out, weights, pin.id)
    fused.detach()
    from .card import write_compose_card

    seconds = time.perf_counter() - started
    write_compose_card(out, pin=pin, config=config, parents=kept, weights=weights, examples=examples,
                       settings={"optimizer": f"nevergrad {optimizer}", "steps": steps, "l1": l1, "seed": seed,
                                 "bounds": [-BOUND, BOUND], "init": "zeros; uniform and one-hot points suggested"},
                       scores={"loss": loss, "exact_match": match, "objective": best[0]}, skipped=skipped)
    return ComposeResult(out, weights, loss, match, seconds, steps, list(kept), skipped)

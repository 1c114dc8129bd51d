"""Find and compose the community's adapters for a new task from a handful of examples (LoraHub-style).

``score_candidates`` ranks saved adapters by their loss and exact match on the examples: the base loads
once, each candidate is attached, scored in one forward pass and detached. ``compose`` weights several
low-rank candidates into ONE LoRA gradient-free, as LoraHub (Huang et al. 2023) does: Nevergrad's
optimiser (NGOpt, or any optimiser in its registry) minimises the loss plus ``l1 * sum |w|`` on the fitted part
of the examples; ``adapters.composition.selection`` decides, on the held-out part and the user's metric, whether
the mix or the best single candidate is written. The base and every candidate's factors load once; each step only sets the weights of fused hooks
(``adapters.composition.deltas``). Candidates of different ranks or target modules combine exactly, ranks
concatenated. The result is a plain PEFT LoRA whose card lists every parent with its weight.

Only local directories come in here: hub references are resolved by the caller (the hub client).
Which candidates can be composed is read from each method's ``low_rank_factors`` capability.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from .few_shot import Examples, encode_examples, score
from .selection import HOLDOUT_FRACTION, Part, Split, check_metric, choose, error, note_for, overall_of, split_examples

__all__ = ["Candidate", "ComposeResult", "FindResult", "Scored", "Skipped", "Step", "compose", "score_candidates"]

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


@dataclass(frozen=True)
class Step:
    """One optimiser step: the weights, their score on the fit part, and what the optimiser was told."""

    weights: list[float]
    fit: Part
    objective: float  # fit loss + l1 * sum |w|


@dataclass
class ComposeResult:
    """What ``compose`` wrote. ``weights`` are the written adapter's, one per parent (one-hot when the best
    single candidate was returned); ``mix_weights`` what the optimiser found; ``loss``/``exact_match`` the written
    adapter on all the examples; ``scores`` the mix and the best single candidate on each part."""

    out: Path
    weights: list[float]
    loss: float
    exact_match: float
    seconds: float
    steps: int
    parents: list[Candidate]
    skipped: list[Skipped]
    metric: str = "loss"
    chosen: str = "mix"
    split: Split | None = None
    mix_weights: list[float] = field(default_factory=list)
    scores: dict = field(default_factory=dict)
    note: str | None = None
    history: list[Step] = field(default_factory=list)


def _base_and_batch(base_dir: Path, examples: Examples):
    from ..base.load import load_base, pin_for

    pin = pin_for(base_dir)
    model, tokenizer = load_base(base_dir, task="causal-lm")
    return pin, model, tokenizer, encode_examples(tokenizer, examples)


def _unusable(candidate: Candidate, pin: Any, allow_base_mismatch: bool) -> str | None:
    """Why a candidate cannot be scored on this base (pin, method, task), or None."""
    from ..base.load import check_pin
    from ..registry import method_for_dir
    from ..runtime.stack import adapter_front, adapter_task

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


def score_candidates(
    base_dir: str | Path,
    examples: Examples,
    candidates: Sequence[Candidate],
    *,
    allow_base_mismatch: bool = False,
    progress: bool = True,
) -> FindResult:
    """Score every candidate on ``examples`` over one loaded base; the unusable ones are skipped with why."""
    from tqdm.auto import tqdm

    from ..registry import method_for_dir
    from ..runtime.stack import AdapterStack, adapter_front, adapter_task

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
        result.scored.append(
            Scored(
                candidate,
                method_for_dir(candidate.path).name,
                adapter_task(candidate.path, adapter_front(candidate.path)),
                loss,
                match,
            )
        )
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


def compose(
    base_dir: str | Path,
    examples: Examples,
    candidates: Sequence[Candidate],
    out: str | Path,
    *,
    steps: int = 40,
    l1: float = 0.05,
    seed: int = 0,
    optimizer: str = "NGOpt",
    metric: str | None = None,
    holdout: float = HOLDOUT_FRACTION,
    keep_mix: bool = False,
    allow_base_mismatch: bool = False,
    progress: bool = True,
) -> ComposeResult:
    """Weight ``candidates`` into one LoRA for ``examples`` and write it (PEFT layout + card) to ``out``.

    The examples are split by ``seed`` (``selection.split_examples``): the optimiser minimises the fit part's
    loss + ``l1 * sum |w|``, offered the uniform average and each candidate alone first (when ``steps``
    allows); the mix is the step with the best ``metric`` on the fit part (``None``: ``exact_match`` for short
    answers, else ``loss``), ties by that objective. On the held-out part the mix meets every
    candidate alone: when the best of them scores strictly better there, it is written instead (its own files)
    unless ``keep_mix``, and ``ComposeResult.note`` says so in one line."""
    from .deltas import FusedDeltas

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AdapterError(f"{out}: output directory is not empty")
    if steps < 1:
        raise AdapterError("--steps must be at least 1")
    metric = check_metric(metric, examples)
    split = split_examples(examples, holdout, seed)
    started = time.perf_counter()
    pin, model, tokenizer, fit_batch = _base_and_batch(Path(base_dir), split.fit)
    held_batch = encode_examples(tokenizer, split.held_out) if split.held_out else None
    kept, factors, skipped = _factors(candidates, pin, allow_base_mismatch)
    if not kept:
        reasons = "; ".join(f"{s.label}: {s.reason}" for s in skipped) or "none given"
        raise AdapterError(f"no candidate can be composed ({reasons})")
    fused = FusedDeltas(model, factors)
    history = _search(model, fused, fit_batch, len(kept), steps, l1, seed, optimizer, progress)
    # the user's metric first, then the optimiser's own objective (loss + L1): with loss that is today's choice
    mix = min(history, key=lambda s: (0.0 if metric == "loss" else error(s.fit, metric), s.objective))
    chosen = choose(model, fused, mix, kept, fit_batch, held_batch, metric)
    single = chosen["single"]
    use_single = chosen["single_wins"] and not keep_mix
    if use_single:
        config = _copy_candidate(kept[single["index"]], out)
        weights = [1.0 if i == single["index"] else 0.0 for i in range(len(kept))]
    else:
        config = fused.save_peft(out, mix.weights, pin.id)
        weights = list(mix.weights)
    fused.detach()
    written = single if use_single else chosen["mix"]
    overall = overall_of(written["fit"], written["held_out"], split)
    note = note_for(chosen, split, metric, keep_mix, [c.label for c in kept])
    scores = {
        "mix": {
            "weights": dict(zip([c.label for c in kept], mix.weights, strict=True)),
            "objective": mix.objective,
            **{k: v and v.to_dict() for k, v in chosen["mix"].items()},
        },
        "best_single": {
            "adapter": kept[single["index"]].label,
            **{k: v and v.to_dict() for k, v in single.items() if k != "index"},
        },
        "candidates_held_out": {c.label: p.to_dict() for c, p in zip(kept, chosen["singles_held_out"], strict=True)}
        if chosen["singles_held_out"]
        else {},
    }
    from .card import write_compose_card

    seconds = time.perf_counter() - started
    write_compose_card(
        out,
        pin=pin,
        config=config,
        parents=[kept[single["index"]]] if use_single else kept,
        weights=[1.0] if use_single else weights,
        examples=examples,
        settings={
            "optimizer": f"nevergrad {optimizer}",
            "steps": steps,
            "l1": l1,
            "seed": seed,
            "bounds": [-BOUND, BOUND],
            "init": "zeros; uniform and one-hot points suggested",
        },
        selection={
            "metric": metric,
            "split": split.to_dict(),
            "chosen": "best single" if use_single else "mix",
            "keep_mix": keep_mix,
            "note": note,
            "scores": scores,
        },
        overall=overall,
        skipped=skipped,
    )
    return ComposeResult(
        out,
        weights,
        overall.loss,
        overall.exact_match,
        seconds,
        steps,
        list(kept),
        skipped,
        metric=metric,
        chosen="best single" if use_single else "mix",
        split=split,
        mix_weights=list(mix.weights),
        scores=scores,
        note=note,
        history=history,
    )


def _search(
    model: Any, fused: Any, batch: dict, n: int, steps: int, l1: float, seed: int, optimizer: str, progress: bool
) -> list[Step]:
    """Every step of the gradient-free search on the fit part (the optimiser sees nothing else)."""
    import numpy as np
    from tqdm.auto import tqdm

    opt = _optimizer(optimizer, n, steps, seed)
    seeds = [np.full(n, 1.0 / n)] + [np.eye(n)[i] for i in range(n)] if n > 1 else [np.ones(1)]
    for point in seeds[: max(0, steps - 1)]:
        opt.suggest(point)
    history: list[Step] = []
    bar = tqdm(total=steps, desc="composing", unit="step", disable=not progress)
    with warnings.catch_warnings():
        # NGOpt may hand small budgets to SciPy's COBYLA, which warns about its own tolerance: not the user's concern
        warnings.filterwarnings("ignore", message=".*RHOEND.*")
        try:
            for step in range(steps):
                candidate = opt.ask()
                weights = [float(w) for w in candidate.value]
                fused.set_weights(weights)
                fit = Part(*score(model, batch))
                objective = fit.loss + l1 * sum(abs(w) for w in weights)
                opt.tell(candidate, objective)
                history.append(Step(weights, fit, objective))
                bar.set_postfix(best=f"{min(s.objective for s in history):.4f}", step=step + 1)
                bar.update(1)
        finally:
            bar.close()
    return history


def _copy_candidate(candidate: Candidate, out: Path) -> dict:
    """The candidate's own adapter files, byte for byte (its card is replaced by the compose card)."""
    import json
    import shutil

    from ..registry import method_for_dir

    out.mkdir(parents=True, exist_ok=True)
    for name in method_for_dir(candidate.path).files:
        if (candidate.path / name).is_file():
            shutil.copyfile(candidate.path / name, out / name)
    return json.loads((out / "adapter_config.json").read_text())

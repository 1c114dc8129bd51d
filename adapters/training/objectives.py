"""Training objectives as a small registry: how rows are read and how a prepared base is fitted.

Why a registry: ``adapters.training.run`` owns what every run shares (checks, the pinned base, the
optional quantization, the atomic output and the card); an objective owns only its data format and
its trainer. ``causal-lm`` and ``seq-cls`` are supervised (transformers ``Trainer`` on the method's own
``prepare``); ``dpo`` is preference tuning with TRL's ``DPOTrainer`` (``adapters.training.dpo``). A method says
which objectives it supports in ``MethodSpec.objectives``; nothing here knows a method by name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import AdapterError
from .data import load_split, read_prompts
from .fit import FitContext, FitOutcome
from .preferences import read_pairs
from .supervised import fit_supervised, load_supervised

__all__ = ["FitContext", "FitOutcome", "Objective", "get_objective", "list_objectives"]


@dataclass(frozen=True)
class Objective:
    """One way of training: the model head it needs, how its data is read, how it fits.

    load(data, eval_data, eval_fraction, seed) -> (train_rows, eval_rows, label_names, num_labels)
    fit(FitContext) -> FitOutcome
    """

    name: str
    task: str  # the model head: causal-lm or seq-cls
    summary: str
    load: Callable[..., tuple]
    fit: Callable[[FitContext], FitOutcome]
    needs_peft_config: bool = False  # the trainer wraps the model itself from ``spec.peft_config``
    default_beta: float | None = None  # objectives with a temperature (DPO's beta) name their default
    uses_teacher: bool = False  # the run takes --teacher / --teacher-adapter / --teacher-prompt


# ---- the registry ---------------------------------------------------------------------------


def _dpo_fit(ctx: FitContext) -> FitOutcome:
    from .dpo import fit_dpo

    return fit_dpo(ctx)


def _distill_fit(ctx: FitContext) -> FitOutcome:
    from .distill import fit_distill

    return fit_distill(ctx)


def _reward_fit(ctx: FitContext) -> FitOutcome:
    from .reward import fit_reward

    return fit_reward(ctx)


def _grpo_fit(ctx: FitContext) -> FitOutcome:
    from .grpo import fit_grpo

    return fit_grpo(ctx)


_OBJECTIVES: dict[str, Objective] = {
    "causal-lm": Objective(
        "causal-lm",
        "causal-lm",
        "supervised: loss on the completion (or the whole text)",
        load_supervised("causal-lm"),
        fit_supervised,
    ),
    "seq-cls": Objective(
        "seq-cls", "seq-cls", "supervised: a label per text", load_supervised("seq-cls"), fit_supervised
    ),
    "dpo": Objective(
        "dpo",
        "causal-lm",
        "preference pairs {prompt, chosen, rejected} with TRL's DPOTrainer; "
        "the reference is the base itself (adapter disabled)",
        load_split(read_pairs),
        _dpo_fit,
        needs_peft_config=True,
        default_beta=0.1,
    ),
    "distill": Objective(
        "distill",
        "causal-lm",
        "prompts {prompt}: the new adapter learns the teacher's next-token distributions "
        "(forward KL on the teacher's greedy answers)",
        load_split(read_prompts),
        _distill_fit,
        uses_teacher=True,
    ),
    "reward": Objective(
        "reward",
        "seq-cls",
        "preference pairs {prompt, chosen, rejected} -> a one-output reward model with TRL's RewardTrainer",
        load_split(read_pairs, num_labels=1),  # one output: the reward
        _reward_fit,
        needs_peft_config=True,
    ),
    "grpo": Objective(
        "grpo",
        "causal-lm",
        "prompts {prompt} -> TRL's GRPOTrainer against a reward (--reward-fn module:function or --reward ADAPTER)",
        load_split(functools.partial(read_prompts, keep_columns=True)),  # columns reach the reward
        _grpo_fit,
        needs_peft_config=True,
    ),
}


def get_objective(name: str) -> Objective:
    try:
        return _OBJECTIVES[name]
    except KeyError:
        raise AdapterError(f"unknown objective {name!r} (known: {', '.join(_OBJECTIVES)})") from None


def list_objectives() -> list[Objective]:
    return list(_OBJECTIVES.values())


def check_supported(spec: Any, objective: Objective) -> None:
    """Refuse in one line a method that does not declare the objective (read from its capability flags)."""
    supported = tuple(getattr(spec, "objectives", ()) or ())
    if objective.name not in supported or (objective.needs_peft_config and spec.peft_config is None):
        shown = ", ".join(supported) or "none"
        raise AdapterError(f"method {spec.name!r} does not support objective {objective.name!r} (supports: {shown})")

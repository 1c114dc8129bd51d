"""Training objectives as a small registry: how rows are read and how a prepared base is fitted.

Why a registry: ``adapters.training`` owns what every run shares (checks, the pinned base, the
optional quantization, the atomic output and the card); an objective owns only its data format and
its trainer. ``causal-lm`` and ``seq-cls`` are supervised (transformers ``Trainer`` on the method's own
``prepare``); ``dpo`` is preference tuning with TRL's ``DPOTrainer`` (``adapters.dpo``). A method says
which objectives it supports in ``MethodSpec.objectives``; nothing here knows a method by name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import AdapterError

__all__ = ["FitContext", "FitOutcome", "Objective", "get_objective", "list_objectives"]


@dataclass
class FitContext:
    """Everything an objective's ``fit`` gets: a loaded (possibly quantized) base and the run's settings."""

    model: Any
    tokenizer: Any
    spec: Any
    options: dict
    task: str
    train_rows: list[dict]
    eval_rows: list[dict]
    label_names: list[str] | None
    work_dir: Path
    lr: float
    batch_size: int
    max_steps: int | None
    epochs: float | None
    seed: int
    max_length: int
    progress: bool
    beta: float | None = None


@dataclass
class FitOutcome:
    trained: Any  # the prepared module that ``spec.save`` writes
    metrics: dict[str, float]
    steps: int
    is_main_process: bool = True
    extra_settings: dict = field(default_factory=dict)


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


# ---- supervised (causal-lm, seq-cls) --------------------------------------------------------

def _load_supervised(task: str) -> Callable[..., tuple]:
    def load(data: Any, eval_data: Any, eval_fraction: float, seed: int) -> tuple:
        from .data import load_records, split_eval

        records = load_records(data, task)
        if eval_data is not None:
            held = load_records(eval_data, task, label_names=records.label_names)
            if task == "seq-cls" and records.label_names is None:
                records.num_labels = max(records.num_labels or 0, held.num_labels or 0)
            return records.rows, held.rows, records.label_names, records.num_labels
        train_rows, eval_rows = split_eval(records.rows, eval_fraction, seed)
        return train_rows, eval_rows, records.label_names, records.num_labels

    return load


def _accuracy(eval_pred: Any) -> dict[str, float]:
    import numpy as np

    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    return {"accuracy": float((np.argmax(logits, axis=-1) == eval_pred.label_ids).mean())}


def _trainer_args(ctx: FitContext):
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(ctx.work_dir / "trainer"), learning_rate=ctx.lr,
        per_device_train_batch_size=ctx.batch_size, per_device_eval_batch_size=ctx.batch_size,
        max_steps=ctx.max_steps if ctx.max_steps is not None else -1,
        num_train_epochs=ctx.epochs if ctx.epochs is not None else 1, seed=ctx.seed, data_seed=ctx.seed,
        logging_steps=10, save_strategy="no", eval_strategy="no", report_to=[], disable_tqdm=not ctx.progress,
        remove_unused_columns=False, prediction_loss_only=ctx.task == "causal-lm", dataloader_num_workers=0,
        dataloader_pin_memory=False, warmup_steps=0,
    )


def _fit_supervised(ctx: FitContext) -> FitOutcome:
    from transformers import Trainer, set_seed

    from .data import Collator, encode_rows, pad_id

    set_seed(ctx.seed)
    trainable = ctx.spec.prepare(ctx.model, ctx.options, ctx.task)
    train_set = encode_rows(ctx.tokenizer, ctx.train_rows, ctx.task, ctx.max_length, ctx.label_names)
    eval_set = (encode_rows(ctx.tokenizer, ctx.eval_rows, ctx.task, ctx.max_length, ctx.label_names)
                if ctx.eval_rows else None)
    trainer = Trainer(model=trainable, args=_trainer_args(ctx), train_dataset=train_set, eval_dataset=eval_set,
                      data_collator=Collator(pad_id(ctx.tokenizer)),
                      compute_metrics=_accuracy if ctx.task == "seq-cls" else None)
    outcome = trainer.train()
    metrics = {"train_loss": float(outcome.training_loss)}
    if eval_set:
        found = trainer.evaluate()
        metrics["eval_loss"] = float(found["eval_loss"])
        if ctx.task == "causal-lm":
            metrics["perplexity"] = math.exp(min(metrics["eval_loss"], 50.0))
        else:
            metrics["accuracy"] = float(found["eval_accuracy"])
    trainable.eval()
    return FitOutcome(trainable, metrics, int(outcome.global_step), trainer.is_world_process_zero(),
                      extra_settings=runtime_settings(outcome))


def runtime_settings(outcome: Any) -> dict[str, float]:
    """Wall time of the optimisation loop alone (no loading, evaluation or saving), as the card records it."""
    seconds = float((outcome.metrics or {}).get("train_runtime", 0.0))
    return {"train_runtime_s": round(seconds, 3)}


# ---- the registry ---------------------------------------------------------------------------

def _dpo_load(*args: Any) -> tuple:
    from .dpo import load_pairs_for_training

    return load_pairs_for_training(*args)


def _dpo_fit(ctx: FitContext) -> FitOutcome:
    from .dpo import fit_dpo

    return fit_dpo(ctx)


_OBJECTIVES: dict[str, Objective] = {
    "causal-lm": Objective("causal-lm", "causal-lm", "supervised: loss on the completion (or the whole text)",
                           _load_supervised("causal-lm"), _fit_supervised),
    "seq-cls": Objective("seq-cls", "seq-cls", "supervised: a label per text", _load_supervised("seq-cls"),
                         _fit_supervised),
    "dpo": Objective("dpo", "causal-lm", "preference pairs {prompt, chosen, rejected} with TRL's DPOTrainer; "
                     "the reference is the base itself (adapter disabled)", _dpo_load, _dpo_fit,
                     needs_peft_config=True, default_beta=0.1),
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

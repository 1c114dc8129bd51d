"""The supervised objectives, ``causal-lm`` and ``seq-cls``: transformers ``Trainer`` on the method's own
``prepare``; the loss on the completion (or the whole text), or a label per text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .fit import FitContext, FitOutcome, log_metrics_quietly, runtime_settings, trainer_settings

__all__ = ["fit_supervised", "load_supervised"]


def load_supervised(task: str) -> Callable[..., tuple]:
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
        **trainer_settings(ctx),
        logging_steps=10,
        remove_unused_columns=False,
        prediction_loss_only=ctx.task == "causal-lm",
    )


def fit_supervised(ctx: FitContext) -> FitOutcome:
    from transformers import Trainer, set_seed

    from .data import Collator, encode_rows, pad_id

    set_seed(ctx.seed)
    trainable = ctx.spec.prepare(ctx.model, ctx.options, ctx.task)
    train_set = encode_rows(ctx.tokenizer, ctx.train_rows, ctx.task, ctx.max_length, ctx.label_names)
    eval_set = (
        encode_rows(ctx.tokenizer, ctx.eval_rows, ctx.task, ctx.max_length, ctx.label_names) if ctx.eval_rows else None
    )
    trainer = Trainer(
        model=trainable,
        args=_trainer_args(ctx),
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=Collator(pad_id(ctx.tokenizer)),
        compute_metrics=_accuracy if ctx.task == "seq-cls" else None,
    )
    log_metrics_quietly(trainer)
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
    return FitOutcome(
        trainable,
        metrics,
        int(outcome.global_step),
        trainer.is_world_process_zero(),
        extra_settings=runtime_settings(outcome),
    )

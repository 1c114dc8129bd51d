"""The ``dpo`` objective: preference tuning with TRL's ``DPOTrainer`` (no hand-written DPO loss).

The trainer gets the frozen (possibly quantized) base and the method's PEFT config; it wraps the
model itself, so the reference policy is the base with the adapter disabled (no second copy of the
model). Pairs are handed over in TRL's conversational form, so TRL renders them through the same
chat template that ``adapters.training.preferences`` scores with. Held-out pairs are scored by our own
preferred-answer rate and reward margin, the figures ``hub evaluate`` reports.
"""

from __future__ import annotations

from typing import Any

from .fit import FitContext, FitOutcome, log_metrics_quietly, quiet_trl, runtime_settings, trainer_settings

DPO_LOGGING_STEPS = 5


def _as_dataset(rows: list[dict], tokenizer: Any):
    from datasets import Dataset

    if getattr(tokenizer, "chat_template", None):
        return Dataset.from_list(
            [
                {
                    "prompt": [{"role": "user", "content": r["prompt"]}],
                    "chosen": [{"role": "assistant", "content": r["chosen"]}],
                    "rejected": [{"role": "assistant", "content": r["rejected"]}],
                }
                for r in rows
            ]
        )
    eos = tokenizer.eos_token or ""
    return Dataset.from_list(
        [{"prompt": r["prompt"], "chosen": r["chosen"] + eos, "rejected": r["rejected"] + eos} for r in rows]
    )


def _config(ctx: FitContext):
    from trl import DPOConfig

    return DPOConfig(
        **trainer_settings(ctx, trl=True),
        beta=float(ctx.beta),
        max_length=ctx.max_length,
        logging_steps=DPO_LOGGING_STEPS,
    )


def fit_dpo(ctx: FitContext) -> FitOutcome:
    from transformers import set_seed
    from trl import DPOTrainer

    set_seed(ctx.seed)
    peft_config = ctx.spec.peft_config(ctx.model, ctx.options, "causal-lm")
    dataset = _as_dataset(ctx.train_rows, ctx.tokenizer)
    with quiet_trl():
        trainer = DPOTrainer(
            model=ctx.model,
            args=_config(ctx),
            train_dataset=dataset,
            processing_class=ctx.tokenizer,
            peft_config=peft_config,
        )
        log_metrics_quietly(trainer)
        outcome = trainer.train()
    trained = trainer.model
    trained.eval()
    metrics = {"train_loss": float(outcome.training_loss)}
    logged = [entry for entry in trainer.state.log_history if "rewards/margins" in entry]
    if logged:
        metrics["train_reward_margin"] = float(logged[-1]["rewards/margins"])
    if ctx.eval_rows:
        metrics.update(_held_out(trained, ctx))
    return FitOutcome(
        trained,
        metrics,
        int(outcome.global_step),
        trainer.is_world_process_zero(),
        extra_settings={"beta": float(ctx.beta), **runtime_settings(outcome)},
    )


def _held_out(trained: Any, ctx: FitContext) -> dict[str, float]:
    """Preferred-answer rate and mean reward margin of the trained adapter on the held-out pairs."""
    from .preferences import pair_logps, score_pairs

    policy = pair_logps(trained, ctx.tokenizer, ctx.eval_rows, ctx.batch_size, ctx.max_length)
    with trained.disable_adapter():
        reference = pair_logps(trained, ctx.tokenizer, ctx.eval_rows, ctx.batch_size, ctx.max_length)
    found = score_pairs(policy, reference, float(ctx.beta))
    return {"preferred_rate": found.preferred_rate, "reward_margin": found.reward_margin}

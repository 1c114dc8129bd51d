"""The ``reward`` objective: a reward model from preference pairs with TRL's ``RewardTrainer`` (Bradley-Terry loss).

The base is loaded as a sequence classifier with one output (``num_labels=1``); the trainer wraps it with the
method's PEFT config (the SEQ_CLS task type also trains and saves the new score head). Pairs are handed over
already tokenised by ``adapters.training.reward_model.reward_ids``, so training, the held-out figure, ``hub
evaluate`` and GRPO's ``--reward`` all read an answer the same way. The held-out figure, pairwise accuracy, is
computed by our own code on the trained model.
"""

from __future__ import annotations

from typing import Any

from .fit import FitContext, FitOutcome, log_metrics_quietly, quiet_trl, runtime_settings, trainer_settings

REWARD_LOGGING_STEPS = 5


def _as_dataset(rows: list[dict], tokenizer: Any, max_length: int):
    from datasets import Dataset

    from .reward_model import reward_ids

    return Dataset.from_list(
        [
            {
                "chosen_ids": reward_ids(tokenizer, r["prompt"], r["chosen"], max_length),
                "rejected_ids": reward_ids(tokenizer, r["prompt"], r["rejected"], max_length),
            }
            for r in rows
        ]
    )


def _config(ctx: FitContext):
    from trl import RewardConfig

    return RewardConfig(
        **trainer_settings(ctx, trl=True),
        max_length=None,  # already truncated by reward_ids; TRL would drop longer pairs instead
        logging_steps=REWARD_LOGGING_STEPS,
    )


def fit_reward(ctx: FitContext) -> FitOutcome:
    from transformers import set_seed
    from trl import RewardTrainer

    set_seed(ctx.seed)
    peft_config = ctx.spec.peft_config(ctx.model, ctx.options, "seq-cls")
    dataset = _as_dataset(ctx.train_rows, ctx.tokenizer, ctx.max_length)
    with quiet_trl():
        trainer = RewardTrainer(
            model=ctx.model,
            args=_config(ctx),
            train_dataset=dataset,
            processing_class=ctx.tokenizer,
            peft_config=peft_config,
        )
        keep_trainable_fp32(trainer.model)
        log_metrics_quietly(trainer)
        outcome = trainer.train()
    trained = trainer.model
    trained.eval()
    metrics = {"train_loss": float(outcome.training_loss)}
    logged = [entry for entry in trainer.state.log_history if "accuracy" in entry]
    if logged:
        metrics["train_accuracy"] = float(logged[-1]["accuracy"])
    if ctx.eval_rows:
        metrics["pairwise_accuracy"] = held_out_accuracy(trained, ctx)
    return FitOutcome(
        trained,
        metrics,
        int(outcome.global_step),
        trainer.is_world_process_zero(),
        extra_settings=runtime_settings(outcome),
    )


def keep_trainable_fp32(model: Any) -> None:
    """TRL casts the trainable parameters of a quantized base to bfloat16; our quantized bases compute in
    float32 (``adapters.training.quantize``), and a bf16 head (the reward's ``score``) would meet fp32 inputs.
    The optimiser is built when training starts, so casting back here is what it trains."""
    import torch

    for param in model.parameters():
        if param.requires_grad and param.dtype == torch.bfloat16:
            param.data = param.data.float()


def held_out_accuracy(trained: Any, ctx: FitContext) -> float:
    from .reward_model import pair_rewards, pairwise_accuracy

    chosen, rejected = pair_rewards(trained, ctx.tokenizer, ctx.eval_rows, ctx.batch_size, ctx.max_length)
    return pairwise_accuracy(chosen, rejected)

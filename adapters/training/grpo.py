"""The ``grpo`` objective: reinforcement learning from a reward with TRL's ``GRPOTrainer`` (no hand-written loss).

Data is prompts only (``{"prompt": ...}``, other columns reach the reward function as keywords, as TRL passes
them). The trainer wraps the frozen base with the method's PEFT config, samples ``num_generations``
completions of at most ``max_completion_length`` tokens per prompt, and scores them with the reward
(``adapters.training.reward_source``). Generation is bounded and small by default so a CPU run stays short.
The held-out figure is the mean reward of greedy completions of the held-out prompts, for the base before
training and for the adapter after, computed by our own code with the same reward callable.
"""

from __future__ import annotations

from typing import Any

from ..errors import AdapterError
from .fit import FitContext, FitOutcome, log_metrics_quietly, quiet_trl, runtime_settings, trainer_settings
from .reward import keep_trainable_fp32

__all__ = [
    "DEFAULT_MAX_COMPLETION_LENGTH",
    "DEFAULT_NUM_GENERATIONS",
    "fit_grpo",
    "generation_settings",
]

DEFAULT_NUM_GENERATIONS = 4
DEFAULT_MAX_COMPLETION_LENGTH = 16
MAX_NUM_GENERATIONS = 64
MAX_COMPLETION_LENGTH = 4096
GRPO_LOGGING_STEPS = 5


def generation_settings(num_generations: int | None, max_completion_length: int | None) -> tuple[int, int]:
    """The bounded generation settings (defaults small enough for a CPU), refused in one line out of bounds."""
    n = DEFAULT_NUM_GENERATIONS if num_generations is None else num_generations
    length = DEFAULT_MAX_COMPLETION_LENGTH if max_completion_length is None else max_completion_length
    if not 2 <= n <= MAX_NUM_GENERATIONS:
        raise AdapterError(
            f"--num-generations must be between 2 and {MAX_NUM_GENERATIONS} (GRPO compares a group), got {n}"
        )
    if not 1 <= length <= MAX_COMPLETION_LENGTH:
        raise AdapterError(f"--max-completion-length must be between 1 and {MAX_COMPLETION_LENGTH}, got {length}")
    return n, length


def _conversational(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def _trl_prompt(tokenizer: Any, prompt: str) -> Any:
    """The prompt as TRL gets it: a user turn when the tokenizer has a chat template, else the text."""
    return [{"role": "user", "content": prompt}] if _conversational(tokenizer) else prompt


def _trl_completion(tokenizer: Any, text: str) -> Any:
    return [{"role": "assistant", "content": text}] if _conversational(tokenizer) else text


def _as_dataset(rows: list[dict], tokenizer: Any):
    from datasets import Dataset

    return Dataset.from_list([{**r, "prompt": _trl_prompt(tokenizer, r["prompt"])} for r in rows])


def _config(ctx: FitContext, num_generations: int, max_completion_length: int):
    from trl import GRPOConfig

    settings = trainer_settings(ctx, trl=True)
    settings.pop("per_device_eval_batch_size")  # GRPO's own default; no evaluation runs in the loop
    settings["per_device_train_batch_size"] = ctx.batch_size * num_generations  # --batch-size counts prompts
    return GRPOConfig(
        **settings,
        num_generations=num_generations,
        max_completion_length=max_completion_length,
        remove_unused_columns=False,  # extra columns reach the reward function
        logging_steps=GRPO_LOGGING_STEPS,
    )


def _prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """The held-out prompt rendered as training renders it (``encode_row``'s prompt part)."""
    from .data import encode_row

    row = encode_row(tokenizer, {"prompt": prompt, "completion": ""}, "causal-lm", max_length=1 << 30)
    return [i for i, label in zip(row["input_ids"], row["labels"], strict=True) if label == -100]


def greedy_completions(
    model: Any, tokenizer: Any, prompts: list[str], max_new_tokens: int, batch_size: int
) -> list[list[int]]:
    """Greedy completion ids of each prompt (left-padded batches through ``generate``; stops at EOS)."""
    import torch

    from .data import pad_id

    pad = pad_id(tokenizer)
    eos = tokenizer.eos_token_id
    found: list[list[int]] = []
    with torch.no_grad():
        for start in range(0, len(prompts), batch_size):
            rows = [_prompt_ids(tokenizer, p) for p in prompts[start : start + batch_size]]
            width = max(len(r) for r in rows)
            ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
            mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
            out = model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad
            )
            for seq in out[:, width:].tolist():
                cut = seq.index(eos) if eos is not None and eos in seq else len(seq)
                found.append(seq[:cut])
    return found


def mean_reward(model: Any, ctx: FitContext, reward_fn: Any, max_completion_length: int) -> float:
    """Mean reward of the model's greedy completions of the held-out prompts, called as TRL calls it."""
    prompts = [r["prompt"] for r in ctx.eval_rows]
    ids = greedy_completions(model, ctx.tokenizer, prompts, max_completion_length, ctx.batch_size)
    texts = [ctx.tokenizer.decode(i, skip_special_tokens=True) for i in ids]
    extra = {k: [r[k] for r in ctx.eval_rows] for k in ctx.eval_rows[0] if k != "prompt"}
    rewards = reward_fn(
        prompts=[_trl_prompt(ctx.tokenizer, p) for p in prompts],
        completions=[_trl_completion(ctx.tokenizer, t) for t in texts],
        completion_ids=ids,
        trainer_state=None,
        log_extra=lambda *a, **k: None,
        log_metric=lambda *a, **k: None,
        **extra,
    )
    return float(sum(rewards) / len(rewards))


def fit_grpo(ctx: FitContext) -> FitOutcome:
    from transformers import set_seed
    from trl import GRPOTrainer

    if ctx.reward is None or ctx.base_dir is None:
        raise AdapterError("--objective grpo needs a reward: --reward-fn module:function or --reward REWARD_ADAPTER")
    n, length = generation_settings(ctx.num_generations, ctx.max_completion_length)
    reward_fn = ctx.reward.load(ctx.base_dir, ctx.batch_size, ctx.max_length, ctx.resolver)
    set_seed(ctx.seed)
    metrics: dict[str, float] = {}
    if ctx.eval_rows:
        ctx.model.eval()
        metrics["mean_reward_base"] = mean_reward(ctx.model, ctx, reward_fn, length)
    peft_config = ctx.spec.peft_config(ctx.model, ctx.options, "causal-lm")
    with quiet_trl():
        trainer = GRPOTrainer(
            model=ctx.model,
            reward_funcs=reward_fn,
            args=_config(ctx, n, length),
            train_dataset=_as_dataset(ctx.train_rows, ctx.tokenizer),
            processing_class=ctx.tokenizer,
            peft_config=peft_config,
        )
        keep_trainable_fp32(trainer.model)
        log_metrics_quietly(trainer)
        outcome = trainer.train()
    trained = trainer.model
    trained.eval()
    metrics["train_loss"] = float(outcome.training_loss)
    logged = [entry for entry in trainer.state.log_history if "reward" in entry]
    if logged:
        metrics["train_reward"] = float(logged[-1]["reward"])
    if ctx.eval_rows:
        metrics["mean_reward"] = mean_reward(trained, ctx, reward_fn, length)
    settings = {
        "num_generations": n,
        "max_completion_length": length,
        "prompts_per_step": ctx.batch_size,
        **ctx.reward.describe(),
        **runtime_settings(outcome),
    }
    return FitOutcome(
        trained, metrics, int(outcome.global_step), trainer.is_world_process_zero(), extra_settings=settings
    )

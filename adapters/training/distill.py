"""The ``distill`` objective: a student (the base + the new adapter) learns to mimic a teacher.

Data is prompts only (``{"prompt": ...}`` JSONL). Before training, the teacher answers every prompt by
greedy decoding (at most ``max_new_tokens`` tokens, stopping at EOS); those answers are the completions
both models are scored on. The loss is the forward KL, ``KL(teacher || student)``, between the two
next-token distributions at every completion position, with both softened by ``temperature`` and, with
``top_k``, both renormalised over the teacher's ``top_k`` most likely tokens.

Why not TRL's ``DistillationTrainer`` (or the experimental ``GKDTrainer``): both feed the teacher the very
ids the student sees, so a teacher prompt the student never sees (context distillation) cannot be
expressed, and they want a second model object even when the teacher is the student's own base. A small
``Trainer`` subclass aligns the completion positions of the two inputs instead.

Held-out figures (on the held-out prompts' teacher completions, temperature 1, the full vocabulary)
    teacher_kl            mean token-level ``KL(teacher || student)`` after training
    teacher_kl_untrained  the same for the freshly initialised adapter, before any step
    greedy_match          share of completion positions where the student's most likely token is the
                          teacher's greedy token
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import AdapterError
from .fit import FitContext, FitOutcome, log_metrics_quietly, runtime_settings, trainer_settings

__all__ = ["fit_distill", "forward_kl"]


# ---- the loss -------------------------------------------------------------------------------


def forward_kl(
    student_logits: Any, teacher_logits: Any, mask: Any, temperature: float = 1.0, top_k: int | None = None
) -> Any:
    """Mean over ``mask``ed positions of ``KL(teacher || student)`` of the temperature-softened distributions;
    with ``top_k``, both are renormalised over the teacher's ``top_k`` most likely tokens at each position."""
    import torch

    student = student_logits.float() / temperature
    teacher = teacher_logits.float() / temperature
    if top_k is not None and top_k < teacher.shape[-1]:
        teacher, keep = teacher.topk(top_k, dim=-1)
        student = student.gather(-1, keep)
    teacher_logp = torch.log_softmax(teacher, dim=-1)
    student_logp = torch.log_softmax(student, dim=-1)
    per_position = (teacher_logp.exp() * (teacher_logp - student_logp)).sum(-1)
    weights = mask.to(per_position.dtype)
    return (per_position * weights).sum() / weights.sum().clamp(min=1.0)


# ---- examples: the teacher's completions, aligned for both inputs ---------------------------


def _head_ids(tokenizer: Any, text: str) -> list[int]:
    """The ids of an already formatted prompt (``format_prompt`` or ``Teacher.head_text``)."""
    from .data import bos_ids

    return bos_ids(tokenizer) + list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _teacher_completions(teacher: Any, heads: list[list[int]], max_new_tokens: int, device: Any) -> list[list[int]]:
    """Greedy answers, prompts of one length decoded together (no padding, so no position shifts)."""
    import torch

    from ..runtime.generation import greedy_generate

    model, prepare = teacher.generation_model()
    eos = teacher.tokenizer.eos_token_id
    found: dict[int, list[int]] = {}
    by_length: dict[int, list[int]] = {}
    for i, head in enumerate(heads):
        by_length.setdefault(len(head), []).append(i)
    was_training = model.training
    model.eval()
    try:
        for rows in by_length.values():
            for start in range(0, len(rows), 16):
                chunk = rows[start : start + 16]
                ids = torch.tensor([heads[i] for i in chunk], dtype=torch.long, device=device)
                new = greedy_generate(model, ids, torch.ones_like(ids), max_new_tokens, eos, prepare=prepare)
                for i, row in zip(chunk, new.tolist(), strict=True):
                    found[i] = row[: row.index(eos) + 1] if eos is not None and eos in row else row
    finally:
        model.train(was_training)
    return [found[i] for i in range(len(heads))]


def build_examples(
    teacher: Any, tokenizer: Any, rows: Sequence[dict[str, str]], max_new_tokens: int, max_length: int, device: Any
) -> list[dict[str, Any]]:
    """Per row: the student's ids (its prompt + the teacher's answer), the teacher's ids (teacher prompt + prompt
    + the same answer), where the answer starts in each, and its length."""
    from .data import format_prompt

    student_heads = [_head_ids(tokenizer, format_prompt(tokenizer, r["prompt"])) for r in rows]
    teacher_heads = [_head_ids(teacher.tokenizer, teacher.head_text(r["prompt"])) for r in rows]
    longest = max(len(h) for h in student_heads + teacher_heads)
    if longest >= max_length:
        raise AdapterError(
            f"a prompt takes {longest} tokens (with the teacher prompt), no room for an answer within "
            f"--max-length {max_length}; raise --max-length"
        )
    answers = _teacher_completions(teacher, teacher_heads, max_new_tokens, device)
    examples = []
    for s_head, t_head, answer in zip(student_heads, teacher_heads, answers, strict=True):
        answer = answer[: max_length - max(len(s_head), len(t_head))]
        examples.append(
            {
                "student_ids": s_head + answer,
                "student_start": len(s_head),
                "teacher_ids": t_head + answer,
                "teacher_start": len(t_head),
                "length": len(answer),
            }
        )
    return examples


class Collate:
    """Right-pads both inputs; ``*_index`` holds, per answer token, the position whose logits predict it."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad = pad_token_id

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(b["length"] for b in batch)
        out: dict[str, Any] = {"answer_mask": torch.zeros(len(batch), width, dtype=torch.long)}
        for side in ("student", "teacher"):
            longest = max(len(b[f"{side}_ids"]) for b in batch)
            ids = torch.full((len(batch), longest), self.pad, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            index = torch.zeros((len(batch), width), dtype=torch.long)
            for i, b in enumerate(batch):
                n = len(b[f"{side}_ids"])
                ids[i, :n] = torch.tensor(b[f"{side}_ids"], dtype=torch.long)
                mask[i, :n] = 1
                index[i, : b["length"]] = torch.arange(b["length"]) + b[f"{side}_start"] - 1
            out[f"{side}_input_ids"], out[f"{side}_attention_mask"], out[f"{side}_index"] = ids, mask, index
        answers = torch.zeros(len(batch), width, dtype=torch.long)
        for i, b in enumerate(batch):
            out["answer_mask"][i, : b["length"]] = 1
            answers[i, : b["length"]] = torch.tensor(b["student_ids"][b["student_start"] :], dtype=torch.long)
        out["answer_ids"] = answers
        return out


def _at(logits: Any, index: Any) -> Any:
    return logits.gather(1, index.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))


def _student_logits(model: Any, batch: dict[str, Any]) -> Any:
    ids = batch["student_input_ids"]
    out = model(input_ids=ids, attention_mask=batch["student_attention_mask"])
    logits = out.logits if hasattr(out, "logits") else out[0]
    return _at(logits[:, -ids.shape[1] :], batch["student_index"])  # virtual tokens, if any, come first


def _teacher_logits(teacher: Any, batch: dict[str, Any]) -> Any:
    logits = teacher.logits(batch["teacher_input_ids"], batch["teacher_attention_mask"])
    return _at(logits, batch["teacher_index"])


def _trainer_class() -> Any:
    from transformers import Trainer

    class DistillTrainer(Trainer):
        """``Trainer`` whose loss is the forward KL to the teacher on the aligned answer positions."""

        def __init__(self, *args: Any, teacher: Any, temperature: float, top_k: int | None, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.teacher, self.temperature, self.top_k = teacher, temperature, top_k

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            teacher = _teacher_logits(self.teacher, inputs)
            student = _student_logits(model, inputs)
            loss = forward_kl(student, teacher, inputs["answer_mask"], self.temperature, self.top_k)
            return (loss, None) if return_outputs else loss

    return DistillTrainer


# ---- held-out agreement ---------------------------------------------------------------------


def agreement(
    student: Any, teacher: Any, examples: list[dict[str, Any]], batch_size: int, pad: int, device: Any
) -> dict[str, float]:
    """Mean token KL(teacher || student) at temperature 1 and the greedy match rate on ``examples``."""
    import torch

    collate = Collate(pad)
    kl_sum, match, tokens = 0.0, 0.0, 0
    was_training = student.training
    student.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(examples), batch_size):
                batch = {k: v.to(device) for k, v in collate(examples[start : start + batch_size]).items()}
                s_logits, t_logits = _student_logits(student, batch), _teacher_logits(teacher, batch)
                mask = batch["answer_mask"]
                n = int(mask.sum())
                kl_sum += float(forward_kl(s_logits, t_logits, mask)) * n
                match += float(((s_logits.argmax(-1) == batch["answer_ids"]) * mask).sum())
                tokens += n
    finally:
        student.train(was_training)
    return {"teacher_kl": kl_sum / max(tokens, 1), "greedy_match": match / max(tokens, 1)}


# ---- fit ------------------------------------------------------------------------------------


def _trainer_args(ctx: FitContext) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        **trainer_settings(ctx),
        logging_steps=10,
        remove_unused_columns=False,
    )


def fit_distill(ctx: FitContext) -> FitOutcome:
    from transformers import set_seed

    from .data import pad_id

    plan = ctx.teacher
    if plan is None:
        raise AdapterError("--objective distill needs a teacher (train(..., teacher=...))")
    req = plan.request
    set_seed(ctx.seed)
    args = _trainer_args(ctx)
    device = next(ctx.model.parameters()).device
    if device.type == "cpu" and args.device.type != "cpu":
        device = args.device
        ctx.model.to(device)
    teacher = plan.load(ctx.model, ctx.tokenizer, device)
    train_set = build_examples(teacher, ctx.tokenizer, ctx.train_rows, req.max_new_tokens, ctx.max_length, device)
    eval_set = (
        build_examples(teacher, ctx.tokenizer, ctx.eval_rows, req.max_new_tokens, ctx.max_length, device)
        if ctx.eval_rows
        else []
    )
    trainable = ctx.spec.prepare(ctx.model, ctx.options, "causal-lm")
    teacher.bind(trainable, plan.base_dir, device)
    pad = pad_id(ctx.tokenizer)
    metrics: dict[str, float] = {}
    if eval_set:
        before = agreement(trainable, teacher, eval_set, ctx.batch_size, pad, device)
        metrics["teacher_kl_untrained"] = before["teacher_kl"]
    trainer = _trainer_class()(
        model=trainable,
        args=args,
        train_dataset=train_set,
        data_collator=Collate(pad),
        teacher=teacher,
        temperature=req.temperature,
        top_k=req.top_k,
    )
    log_metrics_quietly(trainer)
    outcome = trainer.train()
    metrics = {"train_loss": float(outcome.training_loss), **metrics}
    trainable.eval()
    if eval_set:
        metrics.update(agreement(trainable, teacher, eval_set, ctx.batch_size, pad, device))
    record = plan.record()
    return FitOutcome(
        trainable,
        metrics,
        int(outcome.global_step),
        trainer.is_world_process_zero(),
        extra_settings={"distillation": record, **runtime_settings(outcome)},
        provenance={"distillation": record},
    )

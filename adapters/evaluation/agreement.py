"""How closely an adapter (or a stack) follows a teacher on held-out prompts: ``hub evaluate --teacher``.

Why its own module: distillation is judged by agreement, not by a task metric, and the same numbers the
``distill`` objective reports after training must be reproducible later, on any adapter and any prompts,
for any teacher ``hub train --objective distill`` accepts (another model, the base with adapters, a hard
prompt). The teacher answers greedily; the student is scored on the teacher's answer tokens: the mean
token ``KL(teacher || student)`` at temperature 1 and the share of positions where the student's most
likely token is the teacher's (``greedy_match``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..resolver import Resolver

DEFAULT_MAX_LENGTH = 512


class _StackStudent:
    """An ``AdapterStack`` called like a model (prompt and prefix adapters add their positions and strip
    them from the logits); evaluation only, so switching modes does nothing."""

    training = False

    def __init__(self, stack: Any) -> None:
        self.stack = stack

    def __call__(self, **inputs: Any) -> Any:
        return self.stack(**inputs)

    def eval(self) -> _StackStudent:
        return self

    def train(self, mode: bool = True) -> _StackStudent:
        return self


def evaluate_agreement(
    base: str | Path | None,
    data: str | Path,
    adapters: Sequence[str | Path] = (),
    *,
    teacher: str | Path | None = None,
    teacher_adapters: Sequence[str | Path] = (),
    teacher_prompt: str | Path | None = None,
    max_new_tokens: int | None = None,
    batch_size: int = 8,
    max_length: int = DEFAULT_MAX_LENGTH,
    limit: int | None = None,
    allow_base_mismatch: bool = False,
    resolver: Resolver | None = None,
) -> dict[str, Any]:
    """``{"n", "tokens", "teacher_kl", "greedy_match"}`` of ``base`` + ``adapters`` against the teacher on the
    ``{"prompt"}`` rows of ``data`` (other columns are ignored). The teacher is checked like ``distill``'s:
    one line, before any weights load, when it cannot teach this base (another tokenizer, another pin)."""
    import torch

    from ..base.load import load_base, pin_for, resolve_base
    from ..runtime.stack import AdapterStack, load_stack
    from ..training.data import pad_id, read_prompts
    from ..training.distill import agreement, build_examples
    from ..training.teacher import TeacherRequest

    request = TeacherRequest.from_options(
        "distill", True, teacher, teacher_adapters, teacher_prompt, None, None, max_new_tokens
    )
    assert request is not None  # uses_teacher=True never returns None
    rows = read_prompts(data)[:limit] if limit else read_prompts(data)
    if adapters:
        stack = load_stack(
            None if base is None else str(base),
            [str(a) for a in adapters],
            task="causal-lm",
            allow_base_mismatch=allow_base_mismatch,
            resolver=resolver,
            merge=False,
        )
    else:
        from ..errors import AdapterError

        if base is None:
            raise AdapterError("scoring a base alone against a teacher needs --base")
        base_dir = resolve_base(str(base), resolver=resolver)
        model, tokenizer = load_base(base_dir, task="causal-lm")
        stack = AdapterStack(model, tokenizer, pin_for(base_dir), "causal-lm")
        stack.base_dir = base_dir
    assert stack.base_dir is not None
    plan = request.resolve(stack.base_dir, stack.pin, resolver, allow_base_mismatch)
    device = next(stack.model.parameters()).device
    stack.model.eval()
    student = _StackStudent(stack)
    teacher_model = plan.load(None, stack.tokenizer, device)
    teacher_model.bind(student, plan.base_dir, device)  # the base alone as teacher: a clean copy of it
    with torch.no_grad():
        examples = build_examples(teacher_model, stack.tokenizer, rows, request.max_new_tokens, max_length, device)
    scores = agreement(student, teacher_model, examples, batch_size, pad_id(stack.tokenizer), device)
    return {"n": len(examples), "tokens": sum(e["length"] for e in examples), **scores}

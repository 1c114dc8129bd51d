"""A reward function for ``hub train --objective grpo --reward-fn examples/preferences/rewards.py:answer_form``.

It scores the preference the pairs in this folder teach, without the pairs: 1.0 when a completion takes the
answer form its prompt asks for ("Answer in one word." or "Answer in a full sentence."), else 0.0. It takes
TRL's reward-function arguments (prompts and completions as conversations or plain text; the data's other
columns as keywords, ignored here) and returns one float per completion.
"""

from __future__ import annotations

from typing import Any


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value[-1]["content"])


def answer_form(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
    rewards = []
    for prompt, completion in zip(prompts, completions, strict=True):
        words = _text(completion).split()
        if _text(prompt).rstrip().endswith("Answer in one word."):
            rewards.append(1.0 if len(words) == 1 else 0.0)
        else:
            rewards.append(1.0 if len(words) >= 4 and _text(completion).rstrip().endswith(".") else 0.0)
    return rewards

"""Where GRPO's reward comes from: ``--reward-fn module:function`` or ``--reward REF`` (a reward adapter).

Why its own module: both are checked before any model loads or any file is written (a bad ``module:function``,
a directory that is not a reward adapter), and both end up as one callable with TRL's reward-function
signature (``prompts``, ``completions``, ``completion_ids`` and the dataset's other columns as keywords,
returning one float per completion), used for training and for the held-out mean reward alike.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = ["RewardSource", "as_text", "reward_request", "reward_source"]

RewardFn = Callable[..., list[float]]


@dataclass
class RewardSource:
    """A checked reward: a python callable (``fn``) or a reward adapter directory (``adapter_dir``)."""

    ref: str
    fn: RewardFn | None = None
    adapter_dir: Path | None = None
    adapter_card: dict = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """What the card's training settings record about the reward."""
        if self.fn is not None:
            return {"reward_fn": self.ref}
        base = self.adapter_card.get("base") or {}
        return {"reward_adapter": self.ref, "reward_adapter_base": base.get("fingerprint")}

    def load(self, base_dir: Path, batch_size: int, max_length: int, resolver: Any = None) -> RewardFn:
        """The callable GRPO gets; a reward adapter is loaded on ``base_dir`` (its pin is checked)."""
        if self.fn is not None:
            return checked(self.fn, self.ref)
        from ..runtime.stack import load_stack
        from .reward_model import score_answers

        assert self.adapter_dir is not None
        stack = load_stack(str(base_dir), [str(self.adapter_dir)], task="seq-cls", resolver=resolver)
        stack.model.eval()

        def reward_adapter(prompts: list, completions: list, **_: Any) -> list[float]:
            return score_answers(
                stack,
                stack.tokenizer,
                [as_text(p) for p in prompts],
                [as_text(c) for c in completions],
                batch_size,
                max_length,
            )

        reward_adapter.__name__ = "reward_adapter"
        return reward_adapter


def as_text(value: Any) -> str:
    """A TRL prompt or completion as plain text: a string as it is, a conversation by its last message."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        return str(value[-1].get("content", ""))
    raise AdapterError(f"cannot read a prompt or completion of type {type(value).__name__}")


def checked(fn: RewardFn, ref: str) -> RewardFn:
    """Refuse in one line what TRL would fail on later with a traceback: wrong count, non-numbers, NaN."""

    def reward(prompts: list, completions: list, **kwargs: Any) -> list[float]:
        found = fn(prompts=prompts, completions=completions, **kwargs)
        try:
            values = [float(v) for v in found]
        except (TypeError, ValueError):
            raise AdapterError(f"reward function {ref} must return a list of numbers, got {found!r:.80}") from None
        if len(values) != len(completions):
            raise AdapterError(
                f"reward function {ref} returned {len(values)} rewards for {len(completions)} completions"
            )
        if not all(math.isfinite(v) for v in values):
            raise AdapterError(f"reward function {ref} returned a value that is not a finite number")
        return values

    reward.__name__ = getattr(fn, "__name__", "reward")
    return reward


def _import_function(ref: str) -> RewardFn:
    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr.isidentifier():
        raise AdapterError(f"--reward-fn expects module:function (or path/to/file.py:function), got {ref!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).expanduser()
            if not path.is_file():
                raise AdapterError(f"--reward-fn {ref}: no such file {path}")
            spec = importlib.util.spec_from_file_location(f"hub_reward_{path.stem}", path)
            if spec is None or spec.loader is None:
                raise AdapterError(f"--reward-fn {ref}: cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            sys.path.insert(0, str(Path.cwd()))  # `hub` is a console script: let modules beside the user be found
            try:
                module = importlib.import_module(module_name)
            finally:
                sys.path.remove(str(Path.cwd()))
    except AdapterError:
        raise
    except Exception as exc:  # noqa: BLE001 - importing user code may raise anything; one line says what
        raise AdapterError(f"--reward-fn {ref}: cannot import {module_name} ({type(exc).__name__}: {exc})") from None
    fn = getattr(module, attr, None)
    if fn is None:
        raise AdapterError(f"--reward-fn {ref}: {module_name} has no {attr!r}")
    if not callable(fn):
        raise AdapterError(f"--reward-fn {ref}: {attr!r} is not callable")
    return fn


def reward_source(
    objective: str, reward: str | None, reward_fn: str | None, resolver: Any = None
) -> RewardSource | None:
    """Check the reward flags against the objective; None for objectives that take no reward."""
    if objective != "grpo":
        if reward is not None or reward_fn is not None:
            flag = "--reward" if reward is not None else "--reward-fn"
            raise AdapterError(f"{flag} applies to --objective grpo, not {objective!r}")
        return None
    if reward is not None and reward_fn is not None:
        raise AdapterError("give either --reward or --reward-fn, not both")
    if reward is None and reward_fn is None:
        raise AdapterError("--objective grpo needs a reward: --reward-fn module:function or --reward REWARD_ADAPTER")
    if reward_fn is not None:
        return RewardSource(ref=reward_fn, fn=_import_function(reward_fn))
    from ..resolver import resolve_adapter
    from .reward_model import check_reward_adapter

    assert reward is not None
    adapter_dir = resolve_adapter(reward, resolver)
    return RewardSource(ref=reward, adapter_dir=adapter_dir, adapter_card=check_reward_adapter(adapter_dir, reward))


def reward_request(
    objective: str,
    reward: str | None,
    reward_fn: str | None,
    num_generations: int | None,
    max_completion_length: int | None,
    resolver: Any = None,
) -> RewardSource | None:
    """Every refusal of the reward and generation flags, before any model loads (``adapters.training.run``)."""
    if objective != "grpo":
        for flag, value in (("--num-generations", num_generations), ("--max-completion-length", max_completion_length)):
            if value is not None:
                raise AdapterError(f"{flag} applies to --objective grpo, not {objective!r}")
    else:
        from .grpo import generation_settings

        generation_settings(num_generations, max_completion_length)
    return reward_source(objective, reward, reward_fn, resolver)

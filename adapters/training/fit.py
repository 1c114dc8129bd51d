"""What an objective's ``fit`` is handed and what it hands back, shared by every objective.

Kept apart from the objective registry (``adapters.training.objectives``) so that each objective's module
imports these types and the registry imports the objectives, never the reverse.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FitContext",
    "FitOutcome",
    "hf_progress",
    "log_metrics_quietly",
    "quiet_trl",
    "runtime_settings",
    "trainer_settings",
]

log = logging.getLogger("adapters.training")


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
    teacher: Any = None  # distill: the resolved teacher (``adapters.training.teacher.TeacherPlan``)
    # grpo: the checked reward (``adapters.training.reward_source``), the base it may load a reward adapter on,
    # and the bounded generation settings (None: the objective's defaults)
    reward: Any = None
    base_dir: Path | None = None
    resolver: Any = None
    num_generations: int | None = None
    max_completion_length: int | None = None


@dataclass
class FitOutcome:
    trained: Any  # the prepared module that ``spec.save`` writes
    metrics: dict[str, float]
    steps: int
    is_main_process: bool = True
    extra_settings: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)  # objective-specific entries of the card's provenance record


def trainer_settings(ctx: FitContext, *, trl: bool = False) -> dict[str, Any]:
    """The ``TrainingArguments`` every objective shares: the run's lr, steps or epochs, seed and batch size, no
    checkpoints, no in-loop evaluation, no reporting, bars as the run asks, data loaded in-process. ``trl``
    adds what TRL's configs need on a CPU (its defaults assume a GPU with bf16)."""
    found: dict[str, Any] = {
        "output_dir": str(ctx.work_dir / "trainer"),
        "learning_rate": ctx.lr,
        "per_device_train_batch_size": ctx.batch_size,
        "per_device_eval_batch_size": ctx.batch_size,
        "max_steps": ctx.max_steps if ctx.max_steps is not None else -1,
        "num_train_epochs": ctx.epochs if ctx.epochs is not None else 1,
        "seed": ctx.seed,
        "data_seed": ctx.seed,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": [],
        "disable_tqdm": not ctx.progress,
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": False,
        "warmup_steps": 0,
    }
    if trl:
        import torch

        found.update(use_cpu=not torch.cuda.is_available(), bf16=False, fp16=False, gradient_checkpointing=False)
    return found


@contextmanager
def hf_progress(enabled: bool) -> Iterator[None]:
    """Let ``progress=False`` also hide transformers' own weight-loading bars, then restore them. Lives here, not
    in ``run``, because the evaluator uses it too and ``run`` reaches the evaluator (the forgetting table)."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    if not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was and not enabled:
            hf_logging.enable_progress_bar()


@contextmanager
def quiet_trl() -> Iterator[None]:
    """While a TRL trainer is built and trained: transformers' logs at ERROR (TRL's notes on dataset mapping
    are not the user's concern) and FutureWarnings dropped; both restored afterwards."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(verbosity)


def runtime_settings(outcome: Any) -> dict[str, float]:
    """Wall time of the optimisation loop alone (no loading, evaluation or saving), as the card records it."""
    seconds = float((outcome.metrics or {}).get("train_runtime", 0.0))
    return {"train_runtime_s": round(seconds, 3)}


def log_metrics_quietly(trainer: Any) -> None:
    """Trainer prints every metric dict between its progress bars (``ProgressCallback``; ``PrinterCallback``
    without bars); the run's result is what a user reads. The bars stay; the dicts go to the
    ``adapters.training`` logger at INFO (``hub -v`` shows them)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback

    class ProgressWithoutDicts(ProgressCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
            if state.is_world_process_zero and logs:
                log.info("step %s: %s", state.global_step, {k: v for k, v in logs.items() if k != "total_flos"})

    class LogDicts(TrainerCallback):
        on_log = ProgressWithoutDicts.on_log

    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ProgressWithoutDicts)
    if trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(LogDicts)

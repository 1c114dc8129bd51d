"""What an objective's ``fit`` is handed and what it hands back, shared by every objective.

Kept apart from the objective registry (``adapters.training.objectives``) so that each objective's module
imports these types and the registry imports the objectives, never the reverse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FitContext", "FitOutcome", "log_metrics_quietly", "runtime_settings"]

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


@dataclass
class FitOutcome:
    trained: Any  # the prepared module that ``spec.save`` writes
    metrics: dict[str, float]
    steps: int
    is_main_process: bool = True
    extra_settings: dict = field(default_factory=dict)


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

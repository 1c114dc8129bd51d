"""Train one adapter on a frozen, pinned base and write a push-ready directory.

Why transformers ``Trainer``: it already handles devices, mixed precision, gradient accumulation and
distributed launchers, so ``hub train`` under ``accelerate launch`` or ``torchrun`` scales
this code without a line of ours. The method itself stays a plugin: this module only calls
``spec.prepare`` and ``spec.save``, never branches on a method name.

Everything is written into a hidden temporary sibling of ``out`` and renamed at the very end, so a
bad data line or a crash never leaves a half-written adapter behind.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .errors import AdapterError
from .registry import MethodSpec, get_method
from .resolver import Resolver

DEFAULT_LR = 1e-3
DEFAULT_BATCH_SIZE = 8
DEFAULT_EPOCHS = 1
DEFAULT_MAX_LENGTH = 256


@dataclass
class TrainResult:
    """What a training run produced: the adapter directory, its metrics, and the live model."""

    output_dir: Path
    metrics: dict[str, float]
    steps: int
    settings: dict[str, Any]
    model: Any = field(default=None, repr=False)  # the trained, prepared module (still in memory)
    tokenizer: Any = field(default=None, repr=False)


def method_defaults(spec: MethodSpec) -> dict[str, Any]:
    """Per-method training defaults a spec may carry in ``extra`` (e.g. a higher lr for prompt tuning)."""
    extra = spec.extra or {}
    return {
        "lr": float(extra.get("default_lr", DEFAULT_LR)),
        "batch_size": int(extra.get("default_batch_size", DEFAULT_BATCH_SIZE)),
    }


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AdapterError(f"{out} already exists and is not empty; choose another --out")


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("adapter-hub", "torch", "transformers", "peft", "safetensors"):
        try:
            found[dist.replace("-", "_")] = version(dist)
        except PackageNotFoundError:
            pass
    return found


def build_card(pin: Any, spec: MethodSpec, options: dict, task: str, metrics: dict, settings: dict,
               label_names: list[str] | None, license: str = "apache-2.0") -> dict:
    """The model card front matter for a freshly trained adapter (schema: docs/contracts.md)."""
    pin_dict = pin.to_dict()
    hub = {
        "kind": "adapter",
        "method": spec.name,
        "method_options": _json_safe(options),
        "task": task,
        "base": pin_dict,
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "training": _json_safe(settings),
        "lineage": [],
        "usage": "",
        "versions": library_versions(),
    }
    if label_names:
        hub["label_names"] = list(label_names)
    return {
        "library_name": "peft",
        "base_model": pin_dict.get("id"),
        "base_model_relation": "adapter",
        "license": license,
        "tags": ["adapter-hub", spec.name, task],
        "adapter_hub": hub,
    }


def card_body(spec: MethodSpec, base_id: str, task: str, metrics: dict) -> str:
    shown = ", ".join(f"{k} = {v:.4g}" for k, v in metrics.items()) or "none"
    return (f"# {spec.name} adapter for {base_id}\n\n"
            f"Task: `{task}`. Held-out metrics: {shown}.\n\n"
            f"Load it with `hub run` / `adapters.stack.load_stack`, or with PEFT when the method is PEFT-backed.\n")


@contextmanager
def hf_progress(enabled: bool) -> Iterator[None]:
    """Let ``progress=False`` also hide transformers' own weight-loading bars, then restore them."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    if not enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was and not enabled:
            hf_logging.enable_progress_bar()


def check_declared_fingerprint(model_dir: Path, pin: Any, allow_mismatch: bool = False) -> None:
    """A base whose own card declares a fingerprint must match its weights, or the pin would lie."""
    import warnings

    from .card import read_card
    from .errors import BaseMismatchError

    card = read_card(Path(model_dir))
    declared = ((card.front.get("adapter_hub") or {}).get("fingerprint") if card else None)
    if not declared or declared == pin.fingerprint:
        return
    message = (f"base {model_dir}: its card declares fingerprint {declared} but its weights hash to "
               f"{pin.fingerprint}")
    if not allow_mismatch:
        raise BaseMismatchError(message + " (use --allow-base-mismatch to train on it anyway)")
    warnings.warn(message + "; training on it anyway, the adapter is pinned to the weights", stacklevel=3)


def _accuracy(eval_pred: Any) -> dict[str, float]:
    import numpy as np

    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    return {"accuracy": float((np.argmax(logits, axis=-1) == eval_pred.label_ids).mean())}


def _load_data(data: str | Path, eval_data: str | Path | None, task: str, eval_fraction: float, seed: int):
    from .data import load_records, split_eval

    records = load_records(data, task)
    if eval_data is not None:
        held = load_records(eval_data, task, label_names=records.label_names)
        if task == "seq-cls" and records.label_names is None:
            records.num_labels = max(records.num_labels or 0, held.num_labels or 0)
        return records, records.rows, held.rows
    train_rows, eval_rows = split_eval(records.rows, eval_fraction, seed)
    return records, train_rows, eval_rows


def _trainer_args(tmp: Path, *, lr: float, batch_size: int, max_steps: int | None, epochs: float | None,
                  seed: int, progress: bool, task: str):
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(tmp / "trainer"),
        learning_rate=lr,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=batch_size,
        max_steps=max_steps if max_steps is not None else -1,
        num_train_epochs=epochs if epochs is not None else DEFAULT_EPOCHS,
        seed=seed,
        data_seed=seed,
        logging_steps=10,
        save_strategy="no",
        eval_strategy="no",
        report_to=[],
        disable_tqdm=not progress,
        remove_unused_columns=False,
        prediction_loss_only=task == "causal-lm",
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        warmup_steps=0,
    )


def train(base: str | Path, method: str, data: str | Path, out: str | Path, *, task: str = "causal-lm",
          options: dict | None = None, max_steps: int | None = None, epochs: float | None = None,
          lr: float | None = None, batch_size: int | None = None, seed: int = 0, eval_fraction: float = 0.1,
          eval_data: str | Path | None = None, revision: str | None = None, base_id: str | None = None,
          max_length: int = DEFAULT_MAX_LENGTH, progress: bool = True, license: str = "apache-2.0",
          allow_base_mismatch: bool = False, resolver: Resolver | None = None) -> TrainResult:
    """Train ``method`` on ``data`` over the frozen ``base`` and write the adapter + card to ``out``.

    ``resolver`` pulls a ``hub://`` base (the hub client passes its own)."""
    with hf_progress(progress):
        return _train(base, method, data, out, task=task, options=options, max_steps=max_steps, epochs=epochs,
                      lr=lr, batch_size=batch_size, seed=seed, eval_fraction=eval_fraction, eval_data=eval_data,
                      revision=revision, base_id=base_id, max_length=max_length, progress=progress,
                      license=license, allow_base_mismatch=allow_base_mismatch, resolver=resolver)


def _capped(max_steps: int | None, epochs: float | None) -> tuple[int | None, float | None]:
    """``HUB_TRAIN_MAX_STEPS=N`` caps every run at N steps: smoke tests of scripts and docs stay short."""
    import os

    raw = os.environ.get("HUB_TRAIN_MAX_STEPS", "").strip()
    if not raw:
        return max_steps, epochs
    try:
        cap = int(raw)
    except ValueError:
        raise AdapterError(f"HUB_TRAIN_MAX_STEPS must be a whole number, got {raw!r}") from None
    if cap < 1:
        raise AdapterError(f"HUB_TRAIN_MAX_STEPS must be at least 1, got {cap}")
    return (cap if max_steps is None else min(max_steps, cap)), None


def _train(base: Any, method: str, data: Any, out: Any, *, task: str, options: dict | None,
           max_steps: int | None, epochs: float | None, lr: float | None, batch_size: int | None, seed: int,
           eval_fraction: float, eval_data: Any, revision: str | None, base_id: str | None, max_length: int,
           progress: bool, license: str, allow_base_mismatch: bool, resolver: Resolver | None) -> TrainResult:
    from transformers import Trainer, set_seed

    from .base import load_base, pin_for, resolve_base
    from .card import write_card
    from .data import Collator, encode_rows, pad_id

    spec = get_method(method)
    if task not in spec.tasks:
        raise AdapterError(f"method {spec.name!r} does not support task {task!r} (supports: {', '.join(spec.tasks)})")
    if max_steps is not None and epochs is not None:
        raise AdapterError("give either max_steps or epochs, not both")
    max_steps, epochs = _capped(max_steps, epochs)
    out = Path(out)
    _check_out(out)
    records, train_rows, eval_rows = _load_data(data, eval_data, task, eval_fraction, seed)
    known = {o.name for o in spec.options}
    unknown = sorted(set(options or {}) - known)
    if unknown:
        raise AdapterError(f"method {spec.name!r} has no option(s) {unknown} (known: {sorted(known)})")
    opts = {**spec.defaults(), **(options or {})}
    defaults = method_defaults(spec)
    lr = defaults["lr"] if lr is None else lr
    batch_size = defaults["batch_size"] if batch_size is None else batch_size

    model_dir = resolve_base(str(base), revision=revision, resolver=resolver)
    pin = pin_for(model_dir, base_id=base_id, revision=revision)
    check_declared_fingerprint(model_dir, pin, allow_base_mismatch)
    set_seed(seed)  # before loading: a seq-cls head is initialised there
    model, tokenizer = load_base(model_dir, task=task, num_labels=records.num_labels, label_names=records.label_names)
    if task == "seq-cls" and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = pad_id(tokenizer)  # decoder classifiers find the last real token by it
    set_seed(seed)
    trainable = spec.prepare(model, opts, task)
    train_set = encode_rows(tokenizer, train_rows, task, max_length, records.label_names)
    eval_set = encode_rows(tokenizer, eval_rows, task, max_length, records.label_names) if eval_rows else None

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        args = _trainer_args(tmp, lr=lr, batch_size=batch_size, max_steps=max_steps, epochs=epochs, seed=seed,
                             progress=progress, task=task)
        trainer = Trainer(model=trainable, args=args, train_dataset=train_set, eval_dataset=eval_set,
                          data_collator=Collator(pad_id(tokenizer)),
                          compute_metrics=_accuracy if task == "seq-cls" else None)
        outcome = trainer.train()
        metrics = {"train_loss": float(outcome.training_loss)}
        if eval_set:
            found = trainer.evaluate()
            metrics["eval_loss"] = float(found["eval_loss"])
            if task == "causal-lm":
                metrics["perplexity"] = math.exp(min(metrics["eval_loss"], 50.0))
            else:
                metrics["accuracy"] = float(found["eval_accuracy"])
        trainable.eval()
        if epochs is None and max_steps is None:
            epochs = DEFAULT_EPOCHS
        settings = {"steps": int(outcome.global_step), "epochs": epochs, "max_steps": max_steps, "lr": lr,
                    "batch_size": batch_size, "seed": seed, "max_length": max_length,
                    "dataset": str(data), "train_records": len(train_rows), "eval_records": len(eval_rows)}
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
        if not trainer.is_world_process_zero():  # under torchrun/accelerate only rank 0 writes
            return TrainResult(output_dir=out, metrics=metrics, steps=int(outcome.global_step), settings=settings,
                               model=trainable, tokenizer=tokenizer)
        adapter_tmp = tmp / "adapter"
        adapter_tmp.mkdir()
        spec.save(trainable, adapter_tmp, opts)
        front = build_card(pin, spec, opts, task, metrics, settings, records.label_names, license)
        write_card(adapter_tmp, front, card_body(spec, front["base_model"] or str(model_dir), task, metrics))
        _check_out(out)
        if out.exists():
            out.rmdir()
        adapter_tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(output_dir=out, metrics=metrics, steps=int(outcome.global_step), settings=settings,
                       model=trainable, tokenizer=tokenizer)

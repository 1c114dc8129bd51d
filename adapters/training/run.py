"""Train one adapter on a frozen, pinned base and write a push-ready directory.

Why transformers ``Trainer``: it already handles devices, mixed precision, gradient accumulation and
distributed launchers, so ``hub train`` under ``accelerate launch`` or ``torchrun`` scales
this code without a line of ours. The method itself stays a plugin: this module only calls
``spec.prepare`` and ``spec.save``, never branches on a method name. How a run fits (supervised, or DPO
with TRL) is an objective (``adapters.training.objectives``); whether a method may run one, or train on a base
quantized with bitsandbytes (``adapters.training.quantize``), is read from its capability flags.

Everything is written into a hidden temporary sibling of ``out`` and renamed at the very end, so a
bad data line or a crash never leaves a half-written adapter behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError
from ..registry import MethodSpec, get_method
from ..resolver import Resolver
from .card_record import build_card, card_body
from .fit import hf_progress  # here since the evaluator needs it too (kept importable from run)

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
    continual: dict | None = None  # --from: the parent, the replay and the forgetting table (as in the card)
    tasks: dict | None = None  # several --data: the mix and each task's rows (as in the card's ``multitask``)


def method_defaults(spec: MethodSpec) -> dict[str, Any]:
    """Training defaults from the spec's declared ``default_lr``/``default_batch_size`` (e.g. a higher lr for
    prompt tuning), else the core's."""
    return {
        "lr": float(spec.default_lr if spec.default_lr is not None else DEFAULT_LR),
        "batch_size": int(spec.default_batch_size if spec.default_batch_size is not None else DEFAULT_BATCH_SIZE),
    }


def _rank_zero() -> bool:
    """Whether this process is rank 0 of the process group torchrun/accelerate started (or there is none).

    Asked of torch.distributed itself: on the CPU the Trainer can report every rank as its world's process
    zero (seen under `torchrun --nproc_per_node 2` with gloo), and two ranks must not both write the adapter."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AdapterError(f"{out} already exists and is not empty; choose another --out")


def check_declared_fingerprint(model_dir: Path, pin: Any, allow_mismatch: bool = False) -> None:
    """A base whose own card declares a fingerprint must match its weights, or the pin would lie."""
    import warnings

    from ..card import read_card
    from ..errors import BaseMismatchError

    card = read_card(Path(model_dir))
    declared = (card.front.get("adapter_hub") or {}).get("fingerprint") if card else None
    if not declared or declared == pin.fingerprint:
        return
    message = f"base {model_dir}: its card declares fingerprint {declared} but its weights hash to {pin.fingerprint}"
    if not allow_mismatch:
        raise BaseMismatchError(message + " (use --allow-base-mismatch to train on it anyway)")
    warnings.warn(message + "; training on it anyway, the adapter is pinned to the weights", stacklevel=3)


def _check_request(
    spec: MethodSpec,
    objective: Any,
    task: str,
    quantize: str | None,
    beta: float | None,
    max_steps: int | None,
    epochs: float | None,
) -> None:
    """Every refusal that needs no data and no model, read from the method's capability flags."""
    from .objectives import check_supported

    if task not in spec.tasks:
        raise AdapterError(f"method {spec.name!r} does not support task {task!r} (supports: {', '.join(spec.tasks)})")
    check_supported(spec, objective)
    if quantize is not None and not spec.quantizable:
        raise AdapterError(
            f"method {spec.name!r} cannot train on a quantized base; drop --quantize "
            "(`hub methods` shows which methods can)"
        )
    if beta is not None and objective.default_beta is None:
        raise AdapterError(f"--beta applies to preference objectives (dpo), not {objective.name!r}")
    if beta is not None and beta <= 0:
        raise AdapterError(f"--beta must be positive, got {beta}")
    if max_steps is not None and epochs is not None:
        raise AdapterError("give either max_steps or epochs, not both")


def train(
    base: str | Path,
    method: str,
    data: str | Path | Sequence[str | Path],
    out: str | Path,
    *,
    task: str = "causal-lm",
    objective: str | None = None,
    beta: float | None = None,
    quantize: str | None = None,
    options: dict | None = None,
    max_steps: int | None = None,
    epochs: float | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    eval_fraction: float = 0.1,
    eval_data: str | Path | None = None,
    revision: str | None = None,
    base_id: str | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    progress: bool = True,
    license: str = "apache-2.0",
    allow_base_mismatch: bool = False,
    resolver: Resolver | None = None,
    teacher: str | Path | None = None,
    teacher_adapters: Sequence[str | Path] | None = None,
    teacher_prompt: str | Path | None = None,
    temperature: float | None = None,
    top_k: int | None = None,
    max_new_tokens: int | None = None,
    reward: str | Path | None = None,
    reward_fn: str | None = None,
    num_generations: int | None = None,
    max_completion_length: int | None = None,
    parent: str | Path | None = None,
    replay: str | Path | None = None,
    replay_fraction: float | None = None,
    old_eval: Sequence[str | Path | tuple[str, str | Path]] = (),
    mix: str | None = None,
) -> TrainResult:
    """Train ``method`` on ``data`` over the frozen ``base`` and write the adapter + card to ``out``.

    ``objective`` defaults to ``task`` (supervised); ``"dpo"`` trains on preference pairs with ``beta``
    (default 0.1). ``quantize="nf4"|"int8"`` loads the base quantized with bitsandbytes (QLoRA); the
    pin stays the full-precision base's fingerprint. ``resolver`` pulls a ``hub://`` base (the hub client
    passes its own).

    ``"distill"`` trains on prompts to mimic a teacher: ``teacher`` (a model directory or ``hub://`` reference
    with the same vocabulary), and/or ``teacher_adapters`` stacked on it (default: on the base), and/or a
    ``teacher_prompt`` file the teacher alone sees; ``temperature``, ``top_k`` and ``max_new_tokens`` (the
    teacher's greedy answers) shape the loss (``adapters.training.distill``).

    ``"reward"`` trains a one-output reward model on pairs; ``"grpo"`` trains on prompts against
    ``reward_fn`` (``module:function``) or ``reward`` (a reward adapter), sampling ``num_generations`` completions
    of at most ``max_completion_length`` tokens per prompt.

    ``parent`` (a directory or ``NS/NAME[@VERSION]`` pulled by ``resolver``) continues that adapter: same method,
    options, task and base pin, its weights loaded by the method's ``load_trainable``; ``replay`` mixes
    ``replay_fraction`` (default 0.25) of the new rows' count of earlier rows in; the parent and the new adapter
    are scored on every ``old_eval`` file and on the new held-out rows (the forgetting table, in the card).

    Several ``data`` files (``path`` or ``name=path``) train one adapter on those tasks at once, drawn by ``mix``
    (``proportional``, ``uniform`` or ``temperature=T``; ``adapters.training.multitask``)."""
    with hf_progress(progress):
        return _train(
            base,
            method,
            data,
            out,
            task=task,
            objective=objective,
            beta=beta,
            quantize=quantize,
            options=options,
            max_steps=max_steps,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            seed=seed,
            eval_fraction=eval_fraction,
            eval_data=eval_data,
            revision=revision,
            base_id=base_id,
            max_length=max_length,
            progress=progress,
            license=license,
            allow_base_mismatch=allow_base_mismatch,
            resolver=resolver,
            teacher=teacher,
            teacher_adapters=teacher_adapters,
            teacher_prompt=teacher_prompt,
            temperature=temperature,
            top_k=top_k,
            max_new_tokens=max_new_tokens,
            reward=reward,
            reward_fn=reward_fn,
            num_generations=num_generations,
            max_completion_length=max_completion_length,
            parent=parent,
            replay=replay,
            replay_fraction=replay_fraction,
            old_eval=old_eval,
            mix=mix,
        )


def _capped(max_steps: int | None, epochs: float | None) -> tuple[int | None, float | None]:
    """``HUB_TRAIN_MAX_STEPS=N`` caps every run at N steps: smoke tests of scripts and docs stay short."""
    from hub_rules import SettingInvalid

    from ..settings import settings

    try:
        cap = settings().train_max_steps
    except SettingInvalid as exc:
        raise AdapterError(str(exc)) from None
    if cap is None:
        return max_steps, epochs
    if cap < 1:
        raise AdapterError(f"HUB_TRAIN_MAX_STEPS must be at least 1, got {cap}")
    return (cap if max_steps is None else min(max_steps, cap)), None


def _train(
    base: Any,
    method: str,
    data: Any,
    out: Any,
    *,
    task: str,
    objective: str | None,
    beta: float | None,
    quantize: str | None,
    options: dict | None,
    max_steps: int | None,
    epochs: float | None,
    lr: float | None,
    batch_size: int | None,
    seed: int,
    eval_fraction: float,
    eval_data: Any,
    revision: str | None,
    base_id: str | None,
    max_length: int,
    progress: bool,
    license: str,
    allow_base_mismatch: bool,
    resolver: Resolver | None,
    teacher: Any = None,
    teacher_adapters: Sequence[str | Path] | None = None,
    teacher_prompt: Any = None,
    temperature: float | None = None,
    top_k: int | None = None,
    max_new_tokens: int | None = None,
    reward: Any = None,
    reward_fn: str | None = None,
    num_generations: int | None = None,
    max_completion_length: int | None = None,
    parent: Any = None,
    replay: Any = None,
    replay_fraction: float | None = None,
    old_eval: Sequence[str | Path | tuple[str, str | Path]] = (),
    mix: str | None = None,
) -> TrainResult:
    from transformers import set_seed

    from ..base.load import load_base, pin_for, resolve_base
    from ..card import write_card
    from ..provenance import data_record, training_provenance
    from .continual import check_parent_base, check_parent_labels, continual_request, continued_spec
    from .data import pad_id
    from .multitask import load_tasks, parse_mix, score_tasks
    from .objectives import FitContext, get_objective
    from .quantize import check_backend, prepare_for_training
    from .teacher import TeacherRequest

    spec = get_method(method)
    goal = get_objective(objective or task)
    if objective is not None and goal.task != task and task != "causal-lm":
        raise AdapterError(f"objective {goal.name!r} trains a {goal.task} model, not {task!r}")
    task = goal.task
    _check_request(spec, goal, task, quantize, beta, max_steps, epochs)
    wanted = TeacherRequest.from_options(
        goal.name, goal.uses_teacher, teacher, teacher_adapters, teacher_prompt, temperature, top_k, max_new_tokens
    )
    from .reward_source import reward_request

    reward_from = reward_request(
        goal.name, None if reward is None else str(reward), reward_fn, num_generations, max_completion_length, resolver
    )
    max_steps, epochs = _capped(max_steps, epochs)
    if goal.default_beta is not None and beta is None:
        beta = goal.default_beta
    out = Path(out)
    _check_out(out)
    sources = [data] if isinstance(data, (str, Path)) else list(data)
    if not sources:
        raise AdapterError("give at least one --data file")
    if len(sources) == 1 and mix is not None:
        raise AdapterError("--mix weighs several --data files; this run has one")
    mixing = parse_mix(mix) if len(sources) > 1 else None
    data = sources[0] if mixing is None else sources
    parent_run = continual_request(goal, spec, parent, replay, replay_fraction, old_eval, options, task, resolver)
    tasks = None
    if mixing is None:
        train_rows, eval_rows, label_names, num_labels = goal.load(data, eval_data, eval_fraction, seed)
    else:
        train_rows, eval_rows, label_names, num_labels, tasks = load_tasks(
            goal, sources, eval_data, eval_fraction, seed, mixing
        )
    data_label = str(data) if tasks is None else "+".join(e["name"] for e in tasks.entries)
    new_rows = len(train_rows)
    known = {o.name for o in spec.options}
    unknown = sorted(set(options or {}) - known)
    if unknown:
        raise AdapterError(f"method {spec.name!r} has no option(s) {unknown} (known: {sorted(known)})")
    if quantize is not None:
        check_backend(quantize)  # before any model loads or any file is written
    opts = {**spec.defaults(), **(options or {})}
    if parent_run is not None:
        opts = parent_run.options
        check_parent_labels(parent_run.parent, label_names)
        if replay is not None:
            train_rows = parent_run.mix(goal, train_rows, label_names, seed)
    defaults = method_defaults(spec)
    lr = defaults["lr"] if lr is None else lr
    batch_size = defaults["batch_size"] if batch_size is None else batch_size

    model_dir = resolve_base(str(base), revision=revision, resolver=resolver)
    pin = pin_for(model_dir, base_id=base_id, revision=revision)  # the full-precision weights, quantized or not
    check_declared_fingerprint(model_dir, pin, allow_base_mismatch)
    # options that name other adapters (fusion's members) are pulled and checked before any weights load;
    # prepare and save get them resolved, the card keeps them as given
    run_opts = (
        spec.resolve_options(opts, pin=pin, resolver=resolver, allow_base_mismatch=allow_base_mismatch)
        if spec.resolve_options is not None
        else opts
    )
    if parent_run is not None:
        check_parent_base(parent_run.parent, pin)
    plan = wanted.resolve(model_dir, pin, resolver, allow_base_mismatch) if wanted is not None else None
    set_seed(seed)  # before loading: a seq-cls head is initialised there
    model, tokenizer = load_base(
        model_dir, task=task, num_labels=num_labels, label_names=label_names, quantize=quantize
    )
    if task == "seq-cls" and getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = pad_id(tokenizer)  # decoder classifiers find the last real token by it
    if quantize is not None:
        model = prepare_for_training(model, checkpointing=spec.checkpointable)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        ctx = FitContext(
            model=model,
            tokenizer=tokenizer,
            spec=spec if parent_run is None else continued_spec(spec, parent_run.parent.folder),
            options=run_opts,
            task=task,
            train_rows=train_rows,
            eval_rows=eval_rows,
            label_names=label_names,
            work_dir=tmp,
            lr=lr,
            batch_size=batch_size,
            max_steps=max_steps,
            epochs=epochs,
            seed=seed,
            max_length=max_length,
            progress=progress,
            beta=beta,
            teacher=plan,
            reward=reward_from,
            base_dir=model_dir,
            resolver=resolver,
            num_generations=num_generations,
            max_completion_length=max_completion_length,
        )
        fitted = goal.fit(ctx)
        metrics = fitted.metrics
        if epochs is None and max_steps is None:
            epochs = DEFAULT_EPOCHS
        settings = {
            **({"continued_from": parent_run.parent.ref} if parent_run else {}),
            "objective": goal.name,
            "steps": fitted.steps,
            "epochs": epochs,
            "max_steps": max_steps,
            "lr": lr,
            "batch_size": batch_size,
            "seed": seed,
            "max_length": max_length,
            "dataset": data_label,
            "train_records": len(train_rows),
            **({"replay_records": len(parent_run.replay.picked)} if parent_run and parent_run.replay else {}),
            "eval_records": len(eval_rows),
            **fitted.extra_settings,
        }
        shutil.rmtree(tmp / "trainer", ignore_errors=True)
        if not (fitted.is_main_process and _rank_zero()):  # under torchrun/accelerate only rank 0 writes
            return TrainResult(
                output_dir=out,
                metrics=metrics,
                steps=fitted.steps,
                settings=settings,
                model=fitted.trained,
                tokenizer=tokenizer,
            )
        adapter_tmp = tmp / "adapter"
        adapter_tmp.mkdir()
        spec.save(fitted.trained, adapter_tmp, run_opts)
        lineage = spec.lineage(adapter_tmp) if spec.lineage is not None else []
        record = training_provenance(
            pin=pin.to_dict(),
            method=spec.name,
            options=opts,
            task=task,
            objective=goal.name,
            settings=settings,
            data=(
                data_record(data, new_rows + (len(eval_rows) if eval_data is None else 0))
                if tasks is None
                else {"rows": sum(e["rows"] for e in tasks.entries), **tasks.record()}
            ),
            eval_data=data_record(eval_data, len(eval_rows)) if eval_data is not None else None,
            metrics=metrics,
            extra={
                "beta": beta,
                "quantize": quantize,
                **fitted.provenance,
                **(parent_run.provenance() if parent_run else {}),
            },
        )
        front = build_card(
            pin,
            spec,
            opts,
            task,
            metrics,
            settings,
            label_names,
            license,
            objective={"name": goal.name, **({"beta": float(beta)} if beta is not None else {})},
            quantize=quantize,
            provenance=record,
            lineage=lineage,
        )
        if tasks is not None:
            front["adapter_hub"]["multitask"] = tasks.record()
            front["tags"].append("multi-task")
        body = card_body(spec, front["base_model"] or str(model_dir), task, metrics, lineage)
        write_card(adapter_tmp, front, body)
        continual = None
        if parent_run is not None:  # scored with the card in place: the evaluator reads its pin and labels
            continual = parent_run.measure(
                adapter_tmp, model_dir, task, goal, data_label, eval_data, eval_rows, tmp, batch_size, resolver
            )
        if tasks is not None:
            score_tasks(tasks, adapter_tmp, model_dir, task, goal, tmp, batch_size, resolver)
        _check_out(out)
        if out.exists():
            out.rmdir()
        adapter_tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(
        output_dir=out,
        metrics=metrics,
        steps=fitted.steps,
        settings=settings,
        model=fitted.trained,
        tokenizer=tokenizer,
        continual=continual,
        tasks=tasks.record() if tasks is not None else None,
    )

"""`hub train`: a thin wrapper over adapters.training (`hub evaluate` is in evaluate_commands).

Method options are not declared as click options: they come from the chosen method's spec at run
time (so a third-party method's knobs work without touching this file, and `hub --help` never
imports torch). `--rank 16`, `--target-modules q_proj,v_proj`, `--use-dora` or the generic
`--option key=value` all land in the spec's option names.
"""

from __future__ import annotations

import json
from typing import Any

import click

from ._output import hub_resolver, no_progress_option

# kept here (not imported from adapters) so `hub --help` never imports the ML core
OBJECTIVES = ("causal-lm", "seq-cls", "dpo", "distill", "reward", "grpo")
QUANTIZATIONS = ("nf4", "int8")

# friendly flag -> candidate option names, tried in order against the chosen method's options
ALIASES: dict[str, tuple[str, ...]] = {
    "rank": ("r", "rank"),
    "alpha": ("lora_alpha", "alpha"),
    "dropout": ("lora_dropout", "dropout"),
}


def _convert(kind: type, raw: Any, flag: str) -> Any:
    if raw is True or kind is bool:
        if raw is True:
            return True
        lowered = str(raw).lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise click.UsageError(f"{flag}: expected true or false, got {raw!r}")
    try:
        if kind in (list, tuple):
            return [part.strip() for part in str(raw).split(",") if part.strip()]
        if kind in (int, float):
            return kind(raw)
    except ValueError:
        raise click.UsageError(f"{flag}: expected {kind.__name__}, got {raw!r}") from None
    return raw


def _resolve_name(spec: Any, key: str) -> Any:
    by_name = {o.name: o for o in spec.options}
    key = key.replace("-", "_")
    for candidate in (key, *ALIASES.get(key, ())):
        if candidate in by_name:
            return by_name[candidate]
    known = ", ".join("--" + o.name.replace("_", "-") for o in spec.options) or "none"
    raise click.UsageError(f"method {spec.name!r} has no option {key!r} (its options: {known})")


def parse_method_options(spec: Any, extra: list[str], generic: tuple[str, ...]) -> dict[str, Any]:
    """Turn leftover `--flag [value]` words and `--option k=v` pairs into the spec's option dict."""
    pairs: list[tuple[str, Any]] = []
    i = 0
    while i < len(extra):
        word = extra[i]
        if not word.startswith("--"):
            raise click.UsageError(f"unexpected argument {word!r}")
        value: str | bool
        key, sep, value = word[2:].partition("=")
        if not sep:
            if i + 1 < len(extra) and not extra[i + 1].startswith("--"):
                value, i = extra[i + 1], i + 1
            else:
                value = True
        pairs.append((key, value))
        i += 1
    for item in generic:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--option expects key=value, got {item!r}")
        pairs.append((key, value))
    options: dict[str, Any] = {}
    for key, value in pairs:
        option = _resolve_name(spec, key)
        if value is True and option.type is not bool:
            raise click.UsageError(f"--{key} needs a value")
        options[option.name] = _convert(option.type, value, f"--{key}")
    return options


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--base", required=True, help="Base model: local dir, hub://NS/NAME[@V], or an HF repo id.")
@click.option("--method", required=True, help="Adapter method (see `hub methods`).")
@click.option(
    "--data",
    "data",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Training JSONL. Repeatable: one adapter on several tasks at once, each PATH or NAME=PATH "
    "(named by the file stem otherwise), held out per task, weighed by --mix.",
)
@click.option(
    "--mix",
    default=None,
    help="With several --data: proportional (default: every row once), uniform (as many rows per task) or "
    "temperature=T (task i drawn with p proportional to n_i^(1/T), as in T5/mT5); seeded by --seed.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Adapter directory to create.")
@click.option("--task", type=click.Choice(["causal-lm", "seq-cls"]), default="causal-lm", show_default=True)
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default=None,
    help="Training objective (default: the task's). dpo: preference pairs {prompt, chosen, rejected}. "
    "distill: prompts {prompt}; the adapter learns to mimic a teacher (--teacher, --teacher-adapter, --teacher-prompt). "
    "reward: a one-output reward model from such pairs. grpo: prompts {prompt}, trained against --reward-fn or --reward.",
)
@click.option("--beta", type=float, default=None, help="DPO temperature (default 0.1).")
@click.option(
    "--teacher",
    default=None,
    help="distill: the teacher model (local dir, hub://NS/NAME[@V] or HF repo id); it must share the base's "
    "tokenizer. Default: the base itself.",
)
@click.option(
    "--teacher-adapter",
    "teacher_adapters",
    multiple=True,
    help="distill: an adapter stacked on the teacher (repeatable; several are compressed into one).",
)
@click.option(
    "--teacher-prompt",
    default=None,
    help="distill: a file the teacher alone sees before every prompt (context distillation): text, or a .json "
    "chat transcript of role/content messages (few-shot turns) that comes before each prompt.",
)
@click.option(
    "--temperature",
    type=float,
    default=None,
    help="distill: softens both next-token distributions before the KL (default 1.0).",
)
@click.option(
    "--top-k",
    type=int,
    default=None,
    help="distill: compare only the teacher's K most likely tokens, both renormalised over them (default: all).",
)
@click.option(
    "--max-new-tokens",
    type=int,
    default=None,
    help="distill: length cap of the teacher's greedy answers, the completions both models are scored on (default 32).",
)
@click.option(
    "--reward-fn",
    default=None,
    help="grpo: reward as module:function or path/to/file.py:function (TRL's reward-function arguments, "
    "returns one float per completion).",
)
@click.option("--reward", default=None, help="grpo: a reward adapter (trained with --objective reward) as the reward.")
@click.option("--num-generations", type=int, default=None, help="grpo: completions sampled per prompt (default 4).")
@click.option(
    "--max-completion-length", type=int, default=None, help="grpo: token limit per sampled completion (default 16)."
)
@click.option(
    "--quantize",
    type=click.Choice(QUANTIZATIONS),
    default=None,
    help="Load the base quantized with bitsandbytes (QLoRA); the pin stays the full-precision base.",
)
@click.option("--max-steps", type=int, default=None, help="Stop after N optimiser steps.")
@click.option("--epochs", type=float, default=None, help="Passes over the data (default 1).")
@click.option("--lr", type=float, default=None, help="Learning rate (default: the method's).")
@click.option("--batch-size", type=int, default=None, help="Per-device batch size (default: the method's).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--eval-data",
    default=None,
    help="Held-out JSONL, or an eval set on the hub (NS/NAME@VERSION[:SPLIT]): the card then declares it "
    "in model-index, so the hub verifies the claim.",
)
@click.option(
    "--eval-fraction",
    type=float,
    default=0.1,
    show_default=True,
    help="Share of --data held out when --eval-data is not given.",
)
@click.option("--max-length", type=int, default=256, show_default=True, help="Token limit per record.")
@click.option("--revision", default=None, help="Base revision (HF repo ids).")
@click.option("--base-id", default=None, help="Base id to record in the pin (defaults to the base's own).")
@click.option("--license", "license_", default="apache-2.0", show_default=True)
@click.option("--option", "generic", multiple=True, help="Method option as key=value (repeatable).")
@click.option(
    "--from",
    "parent",
    default=None,
    help="Continue training this adapter (NS/NAME@VERSION or a directory): same method, options, task and base "
    "pin; its weights are the starting point and the card names it.",
)
@click.option(
    "--replay",
    default=None,
    type=click.Path(dir_okay=False),
    help="With --from: earlier rows (the same format as --data) mixed into the training rows.",
)
@click.option(
    "--replay-fraction",
    type=float,
    default=None,
    help="With --replay: replayed rows as a share of the new rows' count (default 0.25; seeded draw).",
)
@click.option(
    "--old-eval",
    "old_eval",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="With --from: held-out rows of an earlier task (repeatable); the parent and the new adapter are scored "
    "on them and on the new held-out rows, and the forgetting table goes into the card.",
)
@click.option(
    "--allow-base-mismatch",
    is_flag=True,
    help="Train even if the base's card declares another fingerprint than its weights.",
)
@no_progress_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def train_cmd(
    ctx: click.Context,
    base: str,
    method: str,
    data: tuple[str, ...],
    mix: str | None,
    out: str,
    task: str,
    objective: str | None,
    beta: float | None,
    teacher: str | None,
    teacher_adapters: tuple[str, ...],
    teacher_prompt: str | None,
    temperature: float | None,
    top_k: int | None,
    max_new_tokens: int | None,
    reward_fn: str | None,
    reward: str | None,
    num_generations: int | None,
    max_completion_length: int | None,
    quantize: str | None,
    max_steps: int | None,
    epochs: float | None,
    lr: float | None,
    batch_size: int | None,
    seed: int,
    eval_data: str | None,
    eval_fraction: float,
    max_length: int,
    revision: str | None,
    base_id: str | None,
    license_: str,
    generic: tuple[str, ...],
    parent: str | None,
    replay: str | None,
    replay_fraction: float | None,
    old_eval: tuple[str, ...],
    allow_base_mismatch: bool,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Train an adapter on a frozen base. Method options: --rank, --alpha, --target-modules, ...

    Continual training: --from ADAPTER starts from that adapter's weights, --replay FILE mixes earlier rows
    in, --old-eval FILE (and every eval set the parent's card declares) scores the old task before and after
    (the forgetting table). Multi-task: --data A --data B --mix uniform trains one adapter on both."""
    from adapters.registry import get_method
    from adapters.training import train

    spec = get_method(method)
    options = parse_method_options(spec, list(ctx.args), generic)
    eval_set, eval_data = _hub_eval_set(eval_data)
    olds = [*old_eval, *_declared_old_evals(parent)]
    result = train(
        base,
        method,
        data[0] if len(data) == 1 else list(data),
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
        progress=not no_progress,
        license=license_,
        allow_base_mismatch=allow_base_mismatch,
        resolver=hub_resolver(),
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
        old_eval=olds,
        mix=mix,
    )
    if eval_set is not None:
        _declare(result.output_dir, eval_set, eval_data, task)
    if as_json:
        found = {"output_dir": str(result.output_dir), "steps": result.steps, "metrics": result.metrics}
        extra = {"continual": result.continual, "tasks": result.tasks}
        click.echo(json.dumps({**found, **{k: v for k, v in extra.items() if v}}))
        return
    shown = "  ".join(f"{k}={v:.4g}" for k, v in result.metrics.items())
    click.echo(f"trained {spec.name} for {result.steps} steps -> {result.output_dir}")
    click.echo(f"metrics: {shown}")
    if result.continual:
        _print_forgetting(result.continual)
    if result.tasks:
        _print_tasks(result.tasks)


def _print_tasks(tasks: dict[str, Any]) -> None:
    """Each task's rows, the rows the mix drew from it, and its own held-out scores."""
    mix = tasks["mix"]
    shown = f"temperature={mix['temperature']:g}" if mix["kind"] == "temperature" else mix["kind"]
    click.echo(f"tasks (mix {shown}):")
    for entry in tasks["tasks"]:
        scores = "  ".join(f"{k}={v:.4g}" for k, v in (entry.get("eval") or {}).items())
        click.echo(f"  {entry['name']}: {entry['rows']} rows, trained on {entry['mixed_rows']}  {scores}".rstrip())


def _print_forgetting(continual: dict[str, Any]) -> None:
    """The forgetting table as the card has it: each task's scores, the parent's (before) and the new (after)."""
    parent = continual["parent"]
    replay = continual.get("replay")
    click.echo(f"continued from {parent.get('ref') or parent.get('path')} ({parent['digest']})")
    if replay:
        click.echo(f"replayed {replay['rows_mixed']} of {replay['rows']} rows from {replay['path']}")
    for row in continual["forgetting"]:
        for metric, before in row["before"].items():
            after = row["after"].get(metric)
            shown = "-" if after is None else f"{after:.4g}"
            click.echo(f"  {row['role']} {row['task']}  {metric}: {before:.4g} -> {shown}")


def _declared_old_evals(parent: str | None) -> list[tuple[str, str]]:
    """With --from: every hub eval set the parent's card declares (``model-index``, as ``--eval-data NS/NAME@V``
    writes it) is an old task of the forgetting table too, pulled like ``--eval-data``. A card whose
    ``model-index`` this hub cannot read declares nothing here (``hub push`` is where it is refused)."""
    if parent is None:
        return []
    from adapters.card import read_card
    from adapters.resolver import resolve_adapter
    from hub_rules import RuleError, declared_evals

    from ..eval_sets import split_file

    card = read_card(resolve_adapter(parent, hub_resolver()))
    try:
        declared = declared_evals(card.front) if card else []
    except RuleError:
        return []
    found: dict[str, str] = {}
    for item in declared:
        name = f"{item.dataset}@{item.revision}:{item.split}"
        if name in found:
            continue
        from ..client import HubClient

        with HubClient() as client:
            folder = client.pull(item.dataset, item.revision)
        found[name] = str(split_file(folder, item.split))
    return list(found.items())


def _hub_eval_set(eval_data: str | None) -> tuple[Any, str | None]:
    """An eval set on the hub is pulled and its split's file used; a local file is used as it is."""
    from ..eval_sets import parse_eval_set, split_file

    eval_set = parse_eval_set(eval_data) if eval_data else None
    if eval_set is None:
        return None, eval_data
    from ..client import HubClient

    with HubClient() as client:
        folder = client.pull(eval_set.dataset, eval_set.version)
    return eval_set, str(split_file(folder, eval_set.split))


def _declare(out: Any, eval_set: Any, data: Any, task: str) -> None:
    """Score the new adapter as the hub's evaluator will (``adapters.evaluate``) and claim that in its card."""
    from adapters.card import read_card, write_card
    from adapters.evaluation import evaluate

    from ..eval_sets import declare

    scored = evaluate(None, data, [out], task=task, progress=False, resolver=hub_resolver()).as_dict()
    card = read_card(out)
    front = declare(card.front if card else {}, eval_set, task, scored, out.name)
    write_card(out, front, card.body if card else "")

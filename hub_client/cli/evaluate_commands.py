"""`hub evaluate`: a thin wrapper over adapters.evaluation (held-out metrics, the task table, preference
pairs, agreement with a teacher). Nothing heavy is imported until the command runs."""

from __future__ import annotations

import json

import click

from ._output import hub_resolver, no_progress_option
from .train_commands import QUANTIZATIONS


@click.command("evaluate")
@click.option(
    "--base",
    default=None,
    help="Base model: local dir, hub://NS/NAME[@V], or an HF repo id "
    "(default with --adapter: found by the adapters' pin).",
)
@click.option(
    "--data",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Held-out JSONL (repeatable: one row per task in a task x adapter table).",
)
@click.option("--adapter", "adapters", multiple=True, help="Adapter dir or hub ref (repeatable: stacked).")
@click.option(
    "--each", "each", multiple=True, help="Adapter scored alone as one column of the task table (repeatable)."
)
@click.option("--with-base", is_flag=True, help="Add the base alone as a column of the task table.")
@click.option("--weight", "weights", multiple=True, type=float, help="Weight per --adapter.")
@click.option("--task", type=click.Choice(["causal-lm", "seq-cls"]), default="causal-lm", show_default=True)
@click.option("--batch-size", type=int, default=8, show_default=True)
@click.option("--max-new-tokens", type=int, default=16, show_default=True)
@click.option("--limit", type=int, default=None, help="Only the first N records.")
@click.option("--revision", default=None)
@click.option("--allow-base-mismatch", is_flag=True)
@click.option(
    "--quantize", type=click.Choice(QUANTIZATIONS), default=None, help="Load the base quantized with bitsandbytes."
)
@click.option("--show", type=int, default=0, help="Print the first N predictions.")
@click.option(
    "--teacher",
    default=None,
    help="Score agreement with this teacher model (dir, hub://, HF id) instead of a task metric.",
)
@click.option(
    "--teacher-adapter",
    "teacher_adapters",
    multiple=True,
    help="Teacher = the base (or --teacher) with this adapter (repeatable: a stack).",
)
@click.option(
    "--teacher-prompt",
    type=click.Path(dir_okay=False),
    default=None,
    help="File the teacher sees before each prompt (context distillation): text, or a .json chat transcript "
    "of role/content messages.",
)
@no_progress_option
@click.option("--json", "as_json", is_flag=True)
def evaluate_cmd(
    base: str | None,
    data: tuple[str, ...],
    adapters: tuple[str, ...],
    each: tuple[str, ...],
    with_base: bool,
    weights: tuple[float, ...],
    task: str,
    batch_size: int,
    max_new_tokens: int,
    limit: int | None,
    revision: str | None,
    allow_base_mismatch: bool,
    quantize: str | None,
    show: int,
    teacher: str | None,
    teacher_adapters: tuple[str, ...],
    teacher_prompt: str | None,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Exact match (causal-lm) or accuracy (seq-cls) of a base, alone or with adapters, on held-out data.

    On preference pairs ({prompt, chosen, rejected}): the preferred-answer rate (share of pairs where the
    chosen answer is the more likely) and the mean DPO reward margin against the base alone; for a reward
    adapter (--objective reward), its pairwise accuracy (share of pairs where chosen gets the higher reward).
    Several --data files or --each adapters: a task x adapter table of exact match.
    With --teacher / --teacher-adapter / --teacher-prompt: agreement with that teacher on the {prompt} rows
    (mean token KL(teacher || student) on the teacher's greedy answers, and the greedy match rate)."""
    from adapters.evaluation.heldout import evaluate

    if teacher is not None or teacher_adapters or teacher_prompt is not None:
        if len(data) > 1 or each or with_base or weights or task != "causal-lm" or quantize:
            raise click.UsageError(
                "--teacher scores one --data file of prompts on one stack: drop --each, --with-base, --weight, "
                "--task, --quantize and extra --data"
            )
        return _print_agreement(
            base,
            data[0],
            adapters,
            teacher,
            teacher_adapters,
            teacher_prompt,
            max_new_tokens,
            batch_size,
            limit,
            allow_base_mismatch,
            as_json,
        )

    if len(data) > 1 or each or with_base:
        from .evaluate_table import print_task_table

        return print_task_table(
            base,
            data,
            adapters,
            each,
            with_base,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            limit=limit,
            allow_base_mismatch=allow_base_mismatch,
            progress=not no_progress,
            as_json=as_json,
        )
    data_file = data[0]

    if weights and len(weights) != len(adapters):
        raise click.UsageError("give one --weight per --adapter, or none")
    if base is None and not adapters:
        raise click.UsageError("give --base, or --adapter to use the base it is pinned to")
    result = evaluate(
        base,
        data_file,
        adapters,
        task=task,
        weights=list(weights) or None,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        revision=revision,
        allow_base_mismatch=allow_base_mismatch,
        limit=limit,
        progress=not no_progress,
        resolver=hub_resolver(),
        quantize=quantize,
    )
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "predictions": result.predictions[:show]}))
        return
    click.echo("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.as_dict().items()))
    for prediction in result.predictions[:show]:
        click.echo(f"  {prediction!r}")


def _print_agreement(
    base: str | None,
    data: str,
    adapters: tuple[str, ...],
    teacher: str | None,
    teacher_adapters: tuple[str, ...],
    teacher_prompt: str | None,
    max_new_tokens: int,
    batch_size: int,
    limit: int | None,
    allow_base_mismatch: bool,
    as_json: bool,
) -> None:
    from adapters.evaluation.agreement import evaluate_agreement

    if base is None and not adapters:
        raise click.UsageError("give --base, or --adapter to use the base it is pinned to")
    scores = evaluate_agreement(
        base,
        data,
        adapters,
        teacher=teacher,
        teacher_adapters=teacher_adapters,
        teacher_prompt=teacher_prompt,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        limit=limit,
        allow_base_mismatch=allow_base_mismatch,
        resolver=hub_resolver(),
    )
    if as_json:
        click.echo(json.dumps(scores))
        return
    click.echo(
        f"n={scores['n']}  tokens={scores['tokens']}  teacher_kl={scores['teacher_kl']:.4f}  "
        f"greedy_match={scores['greedy_match']:.3f}"
    )

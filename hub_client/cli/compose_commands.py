"""`hub run`, `hub merge`, `hub combine`: thin wrappers over adapters.runtime.stack, .merge and .combine.

The ML core is imported inside each command so `hub --help` and the registry commands never load torch.
Without ``--base`` the base is the one the adapters are pinned to, found by its fingerprint; hub references
and the hub's ``base`` repos reach the core through ``hub_client.bases.hub_resolver``.
"""

from __future__ import annotations

from typing import Any

import click

from ._output import hub_resolver, json_option, no_progress_option, print_json
from .train_commands import QUANTIZATIONS


def _weights(raw: str | None, count: int) -> list[float] | None:
    if raw is None:
        return None
    try:
        values = [float(w) for w in raw.split(",") if w.strip()]
    except ValueError:
        raise click.UsageError(f"--weights: expected numbers separated by commas, got {raw!r}") from None
    if len(values) != count:
        raise click.UsageError(f"--weights: {len(values)} weights for {count} adapters")
    return values


def _print_latency(report: list[dict[str, Any]]) -> None:
    for row in report:
        state = "merged" if row["merged"] else "attached"
        line = f"  {row['name']} ({row['method']}, weight {row['weight']:g}): {state}"
        click.echo(line + (f" - adds latency: {row['note']}" if row["note"] else ""), err=True)


def _print_merged(report: list[dict[str, Any]]) -> None:
    """One line: what was folded, and what cannot be (it stays attached and adds latency)."""
    merged = [r["name"] for r in report if r["merged"]]
    attached = [f"{r['name']} ({r['method']})" for r in report if not r["merged"]]
    line = f"merged {', '.join(merged)}" if merged else "merged nothing"
    if attached:
        line += f"; still attached (cannot merge, adds latency): {', '.join(attached)}"
    click.echo(line, err=True)


@click.command("run")
@click.option(
    "--base",
    default=None,
    help="Base model: local dir, hub://NS/NAME[@V] or an HF repo id (default: found by the adapters' pin).",
)
@click.argument("adapters", nargs=-1)
@click.option("--weights", default=None, help="Comma-separated weight per adapter, e.g. 1.0,0.5.")
@click.option(
    "--endpoint",
    default=None,
    help="Send the prompt to a running `hub serve-model` at this URL instead of loading the model.",
)
@click.option(
    "--merge/--no-merge",
    "do_merge",
    default=None,
    help="Fold mergeable adapters into the weights first (the default, except on a --quantize base); "
    "--no-merge keeps them hooked.",
)
@click.option("--allow-base-mismatch", is_flag=True, help="Load adapters pinned to other base weights (warns).")
@click.option("--prompt", required=True, help="Text to continue (causal-lm) or classify (seq-cls).")
@click.option("--max-new-tokens", default=32, show_default=True, type=click.IntRange(1, 4096))
@click.option("--no-chat", is_flag=True, help="Do not wrap the prompt in the tokenizer's chat template.")
@click.option(
    "--quantize",
    type=click.Choice(QUANTIZATIONS),
    default=None,
    help="Load the base quantized with bitsandbytes (adapters stay pinned to the full-precision base).",
)
@json_option
def run_cmd(
    base: str | None,
    adapters: tuple[str, ...],
    weights: str | None,
    endpoint: str | None,
    do_merge: bool | None,
    allow_base_mismatch: bool,
    prompt: str,
    max_new_tokens: int,
    no_chat: bool,
    quantize: str | None,
    as_json: bool,
) -> None:
    """Generate (or classify) with ADAPTERS stacked in order on BASE."""
    if endpoint:
        from ..config import resolve_token
        from .serve_commands import run_on_endpoint

        text = run_on_endpoint(endpoint, adapters, prompt, max_new_tokens, not no_chat, resolve_token(None))
        if as_json:
            print_json({"task": "causal-lm", "text": text, "adapters": []})
        else:
            click.echo(text)
        return
    if not adapters:
        raise click.UsageError("name at least one adapter (or send the prompt to a server with --endpoint)")
    from adapters.runtime.stack import load_stack
    from adapters.training.quantize import check_mergeable

    if do_merge is None:
        do_merge = quantize is None  # a quantized base cannot take merged weights: stay hooked
    if do_merge:
        check_mergeable(quantize)  # refused before the base loads
    stack = load_stack(
        base,
        list(adapters),
        _weights(weights, len(adapters)),
        allow_base_mismatch=allow_base_mismatch,
        resolver=hub_resolver(),
        quantize=quantize,
        merge=do_merge,
    )
    if do_merge:
        stack.merge()
    report = stack.latency_report()
    if as_json:
        if stack.task == "seq-cls":
            scores = [{"label": label, "probability": prob} for label, prob in stack.classify(prompt)]
            print_json({"task": "seq-cls", "label": scores[0]["label"], "scores": scores, "adapters": report})
        else:
            text = stack.generate(prompt, max_new_tokens=max_new_tokens, chat=False if no_chat else None)
            print_json({"task": stack.task, "text": text, "adapters": report})
        return
    if do_merge:
        _print_merged(report)
    else:
        _print_latency(report)
    if stack.task == "seq-cls":
        ranked = stack.classify(prompt)
        click.echo(ranked[0][0])
        for label, prob in ranked:
            click.echo(f"  {label}\t{prob:.4f}")
        return
    click.echo(stack.generate(prompt, max_new_tokens=max_new_tokens, chat=False if no_chat else None))


@click.command("merge")
@click.option(
    "--base",
    default=None,
    help="Base model: local dir, hub://NS/NAME[@V] or an HF repo id (default: found by the adapters' pin).",
)
@click.argument("adapters", nargs=-1, required=True)
@click.option("--weights", default=None, help="Comma-separated weight per adapter.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the merged model.")
@click.option("--allow-base-mismatch", is_flag=True, help="Merge adapters pinned to other base weights (warns).")
@no_progress_option
@click.option(
    "--quantize", type=click.Choice(QUANTIZATIONS), default=None, help="Refused: merging needs the full-precision base."
)
@json_option
def merge_cmd(
    base: str | None,
    adapters: tuple[str, ...],
    weights: str | None,
    out: str,
    allow_base_mismatch: bool,
    no_progress: bool,
    quantize: str | None,
    as_json: bool,
) -> None:
    """Fold ADAPTERS into BASE and write a plain transformers model directory to --out."""
    from adapters.runtime.merge import merge_to_dir

    result = merge_to_dir(
        base,
        list(adapters),
        _weights(weights, len(adapters)),
        out,
        allow_base_mismatch=allow_base_mismatch,
        progress=not no_progress,
        resolver=hub_resolver(),
        quantize=quantize,
    )
    if as_json:
        print_json({"out": str(result.out), "merged": result.merged, "attached": result.attached})
        return
    click.echo(f"merged {', '.join(result.merged) or 'nothing'} into {result.out}")
    for item in result.attached:
        click.echo(
            f"still attached (adds latency): {item['name']} ({item['method']}) in {item['path']}: {item['note']}"
        )


@click.command("combine")
@click.argument("adapters", nargs=-1, required=True)
@click.option(
    "--how",
    default=None,
    help="How to blend: one of the combinations the adapters' method offers (listed by `hub methods`); "
    "default: its first.",
)
@click.option("--weights", default=None, help="Comma-separated weight per adapter (default: equal).")
@click.option(
    "--density",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    help="Fraction kept by ties/dare (default 0.5).",
)
@click.option(
    "--base",
    default=None,
    help="Base model: local dir, hub://NS/NAME[@V] or an HF repo id (default: found by the adapters' pin).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the new adapter.")
@click.option("--allow-base-mismatch", is_flag=True, help="Combine adapters pinned to other base weights (warns).")
@no_progress_option
@json_option
def combine_cmd(
    adapters: tuple[str, ...],
    how: str | None,
    weights: str | None,
    density: float | None,
    base: str | None,
    out: str,
    allow_base_mismatch: bool,
    no_progress: bool,
    as_json: bool,
) -> None:
    """Blend ADAPTERS (same base, same method) into ONE new adapter; its card records each parent
    as NS/NAME@VERSION with its commit id and weight."""
    from adapters.composition.combine import combine_adapters

    from ..parents import resolve_parents
    from ._output import make_client

    dirs, parents = resolve_parents(list(adapters), lambda: make_client(None, None))
    path = combine_adapters(
        dirs,
        out,
        how=how,
        weights=_weights(weights, len(adapters)),
        density=density,
        base=base,
        allow_base_mismatch=allow_base_mismatch,
        progress=not no_progress,
        resolver=hub_resolver(),
        parents=parents,
    )
    if as_json:
        print_json({"out": str(path), "how": how, "parents": parents})
        return
    click.echo(f"wrote combined adapter to {path}")

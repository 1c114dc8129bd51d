"""`hub find` and `hub compose`: reuse the community's adapters for a new task from a few examples.

The hub is asked here (``hub_client.finding``); scoring and composing run in ``adapters.composition`` on local
directories. Both commands read the examples file first, so a bad file costs one line and writes nothing.
"""

from __future__ import annotations

from typing import Any

import click

from ._output import (
    client_options,
    json_option,
    make_client,
    no_progress_option,
    print_json,
    print_table,
    warnings_to_stderr,
)


def _base_dir(base: str) -> Any:
    from adapters.base import resolve_base

    from ..bases import hub_resolver

    return resolve_base(base, resolver=hub_resolver())


def _find(client: Any, base_dir: Any, examples: Any, query: str | None, limit: int, progress: bool) -> Any:
    from adapters.base import pin_for
    from adapters.composition.from_examples import score_candidates

    from ..finding import hub_candidates

    candidates, skipped = hub_candidates(client, pin_for(base_dir).fingerprint, query, limit)
    result = score_candidates(base_dir, examples, candidates, progress=progress)
    result.skipped = skipped + result.skipped
    return result


def _rows(result: Any) -> list[dict[str, Any]]:
    return [
        {
            "rank": i,
            "adapter": s.candidate.label,
            "method": s.method,
            "task": s.task or "",
            "loss": round(s.loss, 4),
            "exact_match": round(s.exact_match, 3),
            "downloads": s.candidate.downloads,
            "commit": s.candidate.commit,
        }
        for i, s in enumerate(result.scored, 1)
    ]


@click.command("find")
@click.option("--base", required=True, help="Base model: local dir, hub://NS/NAME[@V] or an HF repo id.")
@click.option("--examples", required=True, type=click.Path(dir_okay=False), help="A few JSONL prompt/completion rows.")
@click.option("--query", default=None, help="Narrow the hub's adapters by a search query.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 1000), help="Rows to show.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500), help="Adapters to score.")
@no_progress_option
@json_option
@client_options
def find_cmd(
    base: str,
    examples: str,
    query: str | None,
    top: int,
    limit: int,
    no_progress: bool,
    as_json: bool,
    endpoint: str | None,
    token: str | None,
) -> None:
    """Rank the hub's adapters for BASE on a few EXAMPLES (loss and exact match; no training)."""
    from adapters.composition.few_shot import read_examples

    few = read_examples(examples)
    with warnings_to_stderr():
        result = _find(make_client(endpoint, token), _base_dir(base), few, query, limit, not no_progress)
    rows = _rows(result)[:top]
    skipped = [{"adapter": s.label, "reason": s.reason} for s in result.skipped]
    if as_json:
        print_json(
            {
                "base": {"loss": result.base_loss, "exact_match": result.base_exact_match},
                "examples": {"count": len(few.rows), "sha256": few.sha256},
                "results": rows,
                "skipped": skipped,
            }
        )
        return
    click.echo(
        f"base alone: loss {result.base_loss:.4f}, exact match {result.base_exact_match:.2f} "
        f"on {len(few.rows)} examples"
    )
    if rows:
        print_table(
            rows,
            [
                ("rank", "#"),
                ("adapter", "ADAPTER"),
                ("method", "METHOD"),
                ("task", "TASK"),
                ("loss", "LOSS"),
                ("exact_match", "MATCH"),
                ("downloads", "DOWNLOADS"),
            ],
        )
    else:
        click.echo("no adapter on the hub is pinned to this base" + (f" and matches {query!r}" if query else ""))
    for row in skipped:
        click.echo(f"skipped {row['adapter']}: {row['reason']}")


@click.command("compose")
@click.argument("candidates", nargs=-1)
@click.option("--examples", required=True, type=click.Path(dir_okay=False), help="A few JSONL prompt/completion rows.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Directory for the composed LoRA.")
@click.option("--base", default=None, help="Base model (default: the one the candidates are pinned to).")
@click.option(
    "--from-find",
    "from_find",
    type=click.IntRange(1, 100),
    default=None,
    help="Compose the N best adapters `hub find` ranks for these examples (needs --base).",
)
@click.option("--query", default=None, help="With --from-find: narrow the hub's adapters by a search query.")
@click.option("--steps", default=40, show_default=True, type=click.IntRange(1, 10000))
@click.option("--l1", default=0.05, show_default=True, type=click.FloatRange(0.0), help="L1 penalty on the weights.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--optimizer", default="NGOpt", show_default=True, help="A Nevergrad optimiser (NGOpt, CMA, ...).")
@click.option(
    "--metric",
    type=click.Choice(["auto", "exact_match", "loss"]),
    default="auto",
    show_default=True,
    help="What chooses the result; auto: exact_match when every completion is at most 5 words, else loss.",
)
@click.option(
    "--holdout",
    default=0.25,
    show_default=True,
    type=click.FloatRange(0.0, 1.0, max_open=True),
    help="Share of the examples held out (by --seed) to choose between the mix and each candidate alone.",
)
@click.option("--keep-mix", is_flag=True, help="Write the mix even when a single candidate beats it on held-out.")
@no_progress_option
@json_option
@client_options
def compose_cmd(
    candidates: tuple[str, ...],
    examples: str,
    out: str,
    base: str | None,
    from_find: int | None,
    query: str | None,
    steps: int,
    l1: float,
    seed: int,
    optimizer: str,
    metric: str,
    holdout: float,
    keep_mix: bool,
    no_progress: bool,
    as_json: bool,
    endpoint: str | None,
    token: str | None,
) -> None:
    """Weight CANDIDATES (dirs or NS/NAME[@V]) into ONE LoRA for the task the EXAMPLES show (LoraHub)."""
    from pathlib import Path

    from adapters.composition.few_shot import read_examples
    from adapters.composition.from_examples import compose
    from adapters.errors import AdapterError

    if bool(candidates) == bool(from_find):
        raise click.UsageError("give candidate adapters or --from-find N (not both)")
    if from_find and not base:
        raise click.UsageError("--from-find needs --base")
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AdapterError(f"{out}: output directory is not empty")
    few = read_examples(examples)
    clients: list[Any] = []

    def client() -> Any:
        if not clients:
            clients.append(make_client(endpoint, token))
        return clients[0]

    with warnings_to_stderr():
        skipped = []
        if from_find:
            base_dir = _base_dir(str(base))  # --from-find requires --base
            found = _find(client(), base_dir, few, query, 50, not no_progress)
            chosen = [s.candidate for s in found.scored[:from_find]]
            if not chosen:
                raise AdapterError("hub find scored no adapter for this base; nothing to compose")
        else:
            from ..finding import candidate_for

            chosen = [candidate_for(client, ref) for ref in candidates]
            base_dir = _base_dir(base) if base else _pinned_base(chosen)
        result = compose(
            base_dir,
            few,
            chosen,
            out,
            steps=steps,
            l1=l1,
            seed=seed,
            optimizer=optimizer,
            metric=metric,
            holdout=holdout,
            keep_mix=keep_mix,
            progress=not no_progress,
        )
        skipped = result.skipped
    rows = [
        {"adapter": c.label, "weight": round(w, 4), "mix_weight": round(m, 4), "commit": c.commit}
        for c, w, m in zip(result.parents, result.weights, result.mix_weights, strict=True)
    ]
    if as_json:
        print_json(
            {
                "out": str(result.out),
                "weights": rows,
                "loss": result.loss,
                "exact_match": result.exact_match,
                "seconds": round(result.seconds, 2),
                "steps": result.steps,
                "metric": result.metric,
                "chosen": result.chosen,
                "split": result.split.to_dict() if result.split is not None else None,
                "scores": result.scores,
                "note": result.note,
                "skipped": [{"adapter": s.label, "reason": s.reason} for s in skipped],
            }
        )
        if result.note:
            click.echo(result.note, err=True)
        return
    print_table(rows, [("adapter", "ADAPTER"), ("weight", "WEIGHT")])
    for s in skipped:
        click.echo(f"skipped {s.label}: {s.reason}")
    click.echo(
        f"examples: loss {result.loss:.4f}, exact match {result.exact_match:.2f}; "
        f"{result.steps} steps in {result.seconds:.1f} s"
    )
    if result.note:
        click.echo(result.note)
    click.echo(f"wrote composed adapter to {result.out}")


def _pinned_base(chosen: list[Any]) -> Any:
    from adapters.base import base_dir_for
    from adapters.runtime.stack import adapter_front

    from ..bases import hub_resolver

    return base_dir_for(None, [adapter_front(c.path) for c in chosen], [c.label for c in chosen], hub_resolver())

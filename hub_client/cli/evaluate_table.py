"""`hub evaluate` with several task files or ``--each`` adapters: a task x adapter table of exact match."""

from __future__ import annotations

from pathlib import Path

import click

from ._output import hub_resolver, print_json, print_table


def print_task_table(
    base: str | None,
    data: tuple[str, ...],
    adapters: tuple[str, ...],
    each: tuple[str, ...],
    with_base: bool,
    *,
    batch_size: int,
    max_new_tokens: int,
    limit: int | None,
    allow_base_mismatch: bool,
    progress: bool,
    as_json: bool,
) -> None:
    from adapters.evaluation.matrix import evaluate_matrix

    if adapters:
        raise click.UsageError("a task table scores each adapter alone: use --each (not --adapter)")
    if not each and not with_base:
        with_base = True
    table = evaluate_matrix(
        base,
        data,
        each,
        include_base=with_base,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        limit=limit,
        allow_base_mismatch=allow_base_mismatch,
        progress=progress,
        resolver=hub_resolver(),
    )
    if as_json:
        print_json({"exact_match": table})
        return
    columns = list(next(iter(table.values())))
    rows = [
        {
            "task": Path(name).parent.name + "/" + Path(name).name if Path(name).parent.name else name,
            **{c: f"{v:.2f}" for c, v in cells.items()},
        }
        for name, cells in table.items()
    ]
    if len(table) > 1:
        rows.append({"task": "mean", **{c: f"{sum(t[c] for t in table.values()) / len(table):.2f}" for c in columns}})
    print_table(rows, [("task", "TASK")] + [(c, c) for c in columns])

"""`hub worker` (run evaluation jobs and webhook deliveries from the hub's queue; loads ``hub_worker`` on
demand) and
`hub leaderboard` (verified results on one eval set for one base, best first)."""

from __future__ import annotations

import logging

import click

from ._output import client_options, json_option, make_client, print_json, print_table


@click.command("worker")
@click.option("--name", default=None, help="This worker's name in results (default: worker-HOSTNAME).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Jobs at once (1: in this process; more: child processes).",
)
@click.option(
    "--queue-url",
    envvar="HUB_QUEUE_URL",
    default=None,
    help="Broker: redis://… or amqp://… (HUB_QUEUE_URL); unset: the hub's embedded queue in --data.",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    envvar="HUB_DATA",
    default=None,
    help="The hub's data directory, for the embedded queue on the same machine (HUB_DATA).",
)
@click.option(
    "--queue",
    "queues",
    type=click.Choice(["evaluations", "webhooks"]),
    multiple=True,
    help="Consume only this queue (repeatable); default: both. A webhooks-only worker needs no ML stack.",
)
@click.option(
    "--visibility-seconds",
    type=click.IntRange(1),
    default=7200,
    show_default=True,
    help="Redis: an unacknowledged job is handed out again after this long.",
)
@client_options
def worker_cmd(
    name: str | None,
    concurrency: int,
    queue_url: str | None,
    data: str | None,
    queues: tuple[str, ...],
    visibility_seconds: int,
    endpoint: str | None,
    token: str | None,
) -> None:
    """Run the hub's evaluation jobs (pull each adapter, its base by pin and eval set over HTTP, score them
    with `hub evaluate`'s evaluator, post the result) and deliver its webhook events (claim, POST, report).
    Needs a token of scope `evaluate` (`hub admin create-token evalbot --scope evaluate`)."""
    from hub_rules.jobs import QUEUES, broker_url

    from ..config import resolve_endpoint, resolve_token

    if not queue_url and not data:
        raise click.UsageError("give --queue-url (HUB_QUEUE_URL), or --data (HUB_DATA) for the embedded queue")
    from hub_worker import run_worker

    logging.getLogger("hub_worker").setLevel(logging.INFO)  # a service: one line per job claimed, done, skipped
    hub = resolve_endpoint(endpoint)
    run_worker(
        broker_url(queue_url, data),
        endpoint=hub,
        token=resolve_token(token, hub),
        name=name,
        concurrency=concurrency,
        visibility_seconds=visibility_seconds,
        queues=queues or QUEUES,
    )


@click.command("leaderboard")
@click.option("--base", required=True, help="Base fingerprint (sha256:…), as `hub info` shows for a base.")
@click.option("--dataset", required=True, help="Eval set: NS/NAME or NS/NAME@VERSION.")
@click.option("--metric", default=None, help="exact_match, accuracy, preferred_rate or perplexity.")
@client_options
@json_option
def leaderboard_cmd(
    base: str, dataset: str, metric: str | None, endpoint: str | None, token: str | None, as_json: bool
) -> None:
    """Adapters pinned to BASE ranked by their verified score on DATASET (their own claim beside it)."""
    with make_client(endpoint, token) as client:
        rows = client.leaderboard(base, dataset, metric)
    if as_json:
        print_json(rows)
        return
    shown = [
        {
            **r,
            "rank": i + 1,
            "value": f"{r['value']:.4f}",
            "reported": "-" if r.get("reported") is None else f"{r['reported']:.4f}",
        }
        for i, r in enumerate(rows)
    ]
    print_table(
        shown,
        [
            ("rank", "#"),
            ("repo", "REPO"),
            ("version", "VERSION"),
            ("metric", "METRIC"),
            ("value", "VERIFIED"),
            ("reported", "REPORTED"),
            ("n", "ROWS"),
        ],
    )

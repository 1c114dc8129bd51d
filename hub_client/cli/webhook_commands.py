"""`hub webhooks list|create|deliveries|enable|disable|delete`: your webhooks on a hub (the same API that
``huggingface_hub.HfApi().create_webhook`` and the rest call)."""

from __future__ import annotations

from typing import Any

import click

from ._output import client_options, json_option, make_client, print_json, print_table

WATCH_TYPES = ("user", "org", "model", "dataset")


def _shown(hook: dict[str, Any]) -> dict[str, Any]:
    watched = [f"{w['type']}:{w['name']}" for w in hook["watched"]]
    return {**hook, "watched": watched, "state": "disabled" if hook["disabled"] else "active"}


def _watch(value: str) -> dict[str, str]:
    kind, sep, name = value.partition(":")
    if not sep or kind not in WATCH_TYPES or not name:
        raise click.BadParameter(f"{value!r}: use TYPE:NAME with TYPE one of {', '.join(WATCH_TYPES)}")
    return {"type": kind, "name": name}


@click.group("webhooks")
def webhooks() -> None:
    """List, create, enable, disable and delete your webhooks, and read their delivery log."""


@webhooks.command("list")
@client_options
@json_option
def list_cmd(endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Your webhooks: id, URL, what they watch, domains, state."""
    with make_client(endpoint, token) as client:
        rows = client.webhooks.list()
    if as_json:
        print_json(rows)
        return
    cols = [("id", "ID"), ("url", "URL"), ("watched", "WATCHED"), ("domains", "DOMAINS"), ("state", "STATE")]
    print_table([_shown(r) for r in rows], cols)


@webhooks.command("create")
@click.argument("url")
@click.option("--watch", "watched", multiple=True, required=True, help="TYPE:NAME, e.g. user:alice, model:alice/x.")
@click.option("--domain", "domains", type=click.Choice(["repo", "discussion"]), multiple=True, help="Default: both.")
@click.option("--secret", default=None, help="Signing secret (default: the hub makes one and prints it).")
@client_options
@json_option
def create(
    url: str,
    watched: tuple[str, ...],
    domains: tuple[str, ...],
    secret: str | None,
    endpoint: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Send the events of what you watch to URL (signed with the secret; see the README's Webhooks)."""
    items = [_watch(w) for w in watched]
    with make_client(endpoint, token) as client:
        made = client.webhooks.create(url, items, domains=list(domains) or None, secret=secret)
    if as_json:
        print_json(made)
        return
    click.echo(made["id"])
    click.echo(f"webhook {made['id']} posts to {made['url']}; its secret: {made['secret']}", err=True)


@webhooks.command("deliveries")
@click.argument("webhook_id")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True)
@client_options
@json_option
def deliveries(webhook_id: str, limit: int, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """The webhook's delivery log, newest first: event, status, HTTP code, attempts, last error."""
    with make_client(endpoint, token) as client:
        rows = client.webhooks.deliveries(webhook_id, limit)
    if as_json:
        print_json(rows)
        return
    shown = [{**r, "event": f"{r['event']['action']} {r['event']['scope']}"} for r in rows]
    cols = [
        ("createdAt", "CREATED"),
        ("event", "EVENT"),
        ("repo", "REPO"),
        ("status", "STATUS"),
        ("statusCode", "HTTP"),
        ("attempts", "ATTEMPTS"),
        ("error", "ERROR"),
    ]
    print_table(shown, cols)


def _switch(webhook_id: str, disabled: bool, endpoint: str | None, token: str | None, as_json: bool) -> None:
    with make_client(endpoint, token) as client:
        changed = client.webhooks.set_disabled(webhook_id, disabled)
    if as_json:
        print_json(changed)
    else:
        click.echo(f"webhook {webhook_id} {'disabled' if disabled else 'enabled'}")


@webhooks.command("enable")
@click.argument("webhook_id")
@client_options
@json_option
def enable(webhook_id: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Turn a webhook on again (also after it was disabled for failing)."""
    _switch(webhook_id, False, endpoint, token, as_json)


@webhooks.command("disable")
@click.argument("webhook_id")
@client_options
@json_option
def disable(webhook_id: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Stop sending events to a webhook (events meanwhile are not kept)."""
    _switch(webhook_id, True, endpoint, token, as_json)


@webhooks.command("delete")
@click.argument("webhook_id")
@client_options
@json_option
def delete(webhook_id: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Delete a webhook and its delivery log."""
    with make_client(endpoint, token) as client:
        client.webhooks.delete(webhook_id)
    if as_json:
        print_json({"id": webhook_id, "deleted": True})
        return
    click.echo(f"webhook {webhook_id} deleted")

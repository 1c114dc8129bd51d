"""`hub token list|create|revoke`: manage your own access tokens on a hub."""

from __future__ import annotations

import click

from ._output import client_options, json_option, make_client, print_json, print_table

_COLUMNS = [
    ("id", "ID"),
    ("name", "NAME"),
    ("scope", "SCOPE"),
    ("state", "STATE"),
    ("created_at", "CREATED"),
    ("expires_at", "EXPIRES"),
    ("current", "CURRENT"),
]


@click.group("token")
def token() -> None:
    """List, create and revoke your access tokens."""


@token.command("list")
@client_options
@json_option
def list_tokens(endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Your tokens (never the secrets): scope, state and which one you are using."""
    with make_client(endpoint, token) as client:
        rows = client.list_tokens()
    if as_json:
        print_json(rows)
    else:
        print_table(rows, _COLUMNS)


@token.command("create")
@click.option("--scope", type=click.Choice(["read", "write", "admin"]), default="read", show_default=True)
@click.option("--name", "label", default="", help="A label to recognise it by in `hub token list`.")
@click.option("--expires", default=None, help="Lifetime, e.g. 30d, 12h, 1w (never longer than the current token's).")
@client_options
@json_option
def create(scope: str, label: str, expires: str | None, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Create a token and print it once (only the token on stdout)."""
    with make_client(endpoint, token) as client:
        made = client.create_token(scope=scope, name=label, expires=expires)
    if as_json:
        print_json(made)
        return
    click.echo(made["token"])
    until = f", expires {made['expires_at']}" if made.get("expires_at") else ""
    click.echo(f"token {made['id']} ({made['scope']}{until}); it is not shown again", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@client_options
@json_option
def revoke(token_id: int, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Revoke one of your tokens by id; it stops working at once."""
    with make_client(endpoint, token) as client:
        client.revoke_token(token_id)
    if as_json:
        print_json({"id": token_id, "revoked": True})
        return
    click.echo(f"revoked token {token_id}", err=True)

"""``hub login`` / ``logout`` / ``whoami``: save a verified token so other commands need no flags."""

from __future__ import annotations

import click

from ._output import client_options, json_option, make_client, print_fields, print_json


@click.command("login")
@click.option("--token", default=None, help="Access token (prompted for when omitted).")
@click.option("--endpoint", default=None, help="Hub URL (default: HUB_ENDPOINT or http://127.0.0.1:8000).")
@json_option
def login(token: str | None, endpoint: str | None, as_json: bool) -> None:
    """Verify a token with the hub and save it for later commands."""
    if not token:
        token = click.prompt("Token", hide_input=True)
    from .. import config

    endpoint = config.resolve_endpoint(endpoint)
    with make_client(endpoint, token) as client:
        me = client.whoami()
    path = config.save_login(endpoint, token)
    if as_json:
        print_json({"endpoint": endpoint, "user": me.get("user"), "scope": me.get("scope"), "saved_to": str(path)})
        return
    click.echo(
        f"Logged in to {endpoint} as {me.get('user')} (scope {me.get('scope')}); token saved in {path}", err=True
    )


@click.command("logout")
@json_option
def logout(as_json: bool) -> None:
    """Forget the saved token."""
    from .. import config

    forgotten = config.forget_login()
    if as_json:
        print_json({"logged_out": bool(forgotten)})
    elif forgotten:
        click.echo("Logged out.", err=True)
    else:
        click.echo("Not logged in.", err=True)


@click.command("whoami")
@client_options
@json_option
def whoami(endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Show who the current token belongs to."""
    with make_client(endpoint, token) as client:
        me = client.whoami()
    if as_json:
        print_json(me)
    else:
        print_fields(
            [
                ("user", me.get("user")),
                ("orgs", me.get("orgs")),
                ("scope", me.get("scope")),
                ("endpoint", client.endpoint),
            ]
        )

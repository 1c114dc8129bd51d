"""`hub admin set-fullname NAME FULLNAME` and `hub admin orgs private-by-default ORG on|off`: how
accounts look and what an org's new repos default to (HF's display names and Enterprise
"private by default"), on a hub's data directory (or its HUB_DATABASE_URL)."""

from __future__ import annotations

import click

from ._output import json_option, print_json
from .server_settings import DATA_OPTION, server_call, server_settings


@click.command("set-fullname")
@click.argument("name")
@click.argument("fullname")
@DATA_OPTION
@json_option
def set_fullname(name: str, fullname: str, data: str | None, as_json: bool) -> None:
    """Give the user or org NAME the display name FULLNAME ("" clears it; `whoami` shows it)."""
    from hub_server.admin import set_account_fullname

    row = server_call(set_account_fullname, server_settings(data), name, fullname)
    if as_json:
        print_json(row)
        return
    click.echo(f"{row['kind']} {row['account']} is shown as {row['fullname'] or row['account']}", err=True)


@click.group("orgs")
def orgs() -> None:
    """Settings of an org."""


@orgs.command("private-by-default")
@click.argument("org")
@click.argument("state", type=click.Choice(["on", "off"]))
@DATA_OPTION
@json_option
def private_by_default(org: str, state: str, data: str | None, as_json: bool) -> None:
    """on: new repos of ORG are private unless their creator asks for public (native and HF API)."""
    from hub_server.admin import set_org_private_by_default

    row = server_call(set_org_private_by_default, server_settings(data), org, state == "on")
    if as_json:
        print_json(row)
        return
    click.echo(
        f"new repos of {row['org']} are {'private' if row['private_by_default'] else 'public'} by default", err=True
    )

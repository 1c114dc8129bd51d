"""`hub admin tokens list|revoke`, `hub admin users end-sessions|disable|enable`, `hub admin audit`
and `hub admin gc`: operator commands on a hub's data directory (or its HUB_DATABASE_URL / HUB_STORAGE_URL); `hub admin audit --endpoint`
reads the audit trail of a running hub with an admin token instead."""

from __future__ import annotations

import sys

import click

from ._output import json_option, print_json, print_table
from .server_settings import DATA_OPTION, server_call, server_settings

_TOKEN_COLUMNS = [
    ("id", "ID"),
    ("user", "USER"),
    ("name", "NAME"),
    ("scope", "SCOPE"),
    ("state", "STATE"),
    ("created_at", "CREATED"),
    ("expires_at", "EXPIRES"),
]
_AUDIT_COLUMNS = [
    ("id", "ID"),
    ("at", "AT"),
    ("actor", "ACTOR"),
    ("action", "ACTION"),
    ("target", "TARGET"),
    ("request_id", "REQUEST"),
]


@click.group("tokens")
def tokens() -> None:
    """List and revoke the tokens of a hub."""


@tokens.command("list")
@click.option("--user", default=None, help="Only this user's tokens.")
@DATA_OPTION
@json_option
def tokens_list(user: str | None, data: str | None, as_json: bool) -> None:
    """Every token (never the secret): id, owner, scope, state (active, expired, revoked)."""
    from hub_server.admin import list_user_tokens

    rows = server_call(list_user_tokens, server_settings(data), user)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, _TOKEN_COLUMNS)


@tokens.command("revoke")
@click.argument("token_id", type=int)
@DATA_OPTION
@json_option
def tokens_revoke(token_id: int, data: str | None, as_json: bool) -> None:
    """Revoke a token by id: it is refused from the next request on, on every worker."""
    from hub_server.admin import revoke_user_token

    row = server_call(revoke_user_token, server_settings(data), token_id)
    if as_json:
        print_json(row)
        return
    click.echo(f"revoked token {row['id']} of {row['user']}", err=True)


@click.group("users")
def users() -> None:
    """End a user's web sessions, disable or enable an account."""


@users.command("end-sessions")
@click.argument("user")
@DATA_OPTION
@json_option
def users_end_sessions(user: str, data: str | None, as_json: bool) -> None:
    """Sign USER out of the site everywhere (their tokens keep working)."""
    from hub_server.admin import end_user_sessions

    row = server_call(end_user_sessions, server_settings(data), user)
    if as_json:
        print_json(row)
        return
    click.echo(f"ended {row['ended']} web session(s) of {row['user']}", err=True)


@users.command("disable")
@click.argument("user")
@DATA_OPTION
@json_option
def users_disable(user: str, data: str | None, as_json: bool) -> None:
    """Disable USER: tokens and web sessions refused from the next request on, sign-in refused."""
    from hub_server.admin import set_user_disabled

    row = server_call(set_user_disabled, server_settings(data), user, True)
    if as_json:
        print_json(row)
        return
    click.echo(f"disabled {row['user']} (ended {row['ended']} web session(s))", err=True)


@users.command("enable")
@click.argument("user")
@DATA_OPTION
@json_option
def users_enable(user: str, data: str | None, as_json: bool) -> None:
    """Enable USER again (their unrevoked tokens work again)."""
    from hub_server.admin import set_user_disabled

    row = server_call(set_user_disabled, server_settings(data), user, False)
    if as_json:
        print_json(row)
        return
    click.echo(f"enabled {row['user']}", err=True)


@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--before", default=None, type=int, help="Only events older than this id (paging).")
@click.option("--actor", default=None, help="Only events by this user.")
@click.option("--action", default=None, help="Only this action, e.g. version.publish or token.revoke.")
@click.option("--endpoint", default=None, help="Read a running hub's audit API instead of the data dir.")
@click.option("--token", default=None, help="Admin token for --endpoint (default: HUB_TOKEN, then `hub login`).")
@DATA_OPTION
@json_option
def audit(
    limit: int,
    before: int | None,
    actor: str | None,
    action: str | None,
    endpoint: str | None,
    token: str | None,
    data: str | None,
    as_json: bool,
) -> None:
    """Who published, yanked, deleted, created or revoked tokens, and when (newest first)."""
    filters = dict(limit=limit, before=before, actor=actor, action=action)
    if endpoint:
        from ._output import make_client

        with make_client(endpoint, token) as client:
            page = client.audit(**filters)
    else:
        from hub_server.admin import audit_events

        page = server_call(audit_events, server_settings(data), **filters)
    if as_json:
        print_json(page)
        return
    print_table(page["items"], _AUDIT_COLUMNS)
    if page.get("next_before"):
        click.echo(f"more: --before {page['next_before']}", err=True)


@click.command("gc")
@click.option("--grace", default="1h", show_default=True, help="Keep blobs used more recently than this (30m, 1h, 2d).")
@click.option("--dry-run", is_flag=True, help="Only report what would be removed.")
@DATA_OPTION
@json_option
def gc(grace: str, dry_run: bool, data: str | None, as_json: bool) -> None:
    """Remove blobs no version references (idle longer than --grace) and expired upload sessions."""
    from tqdm.auto import tqdm

    from hub_server.admin import garbage_collect
    from hub_server.services.durations import parse_duration

    period = server_call(parse_duration, grace)
    with tqdm(desc="gc", unit="blob", file=sys.stderr, leave=False, disable=None) as bar:
        report = server_call(garbage_collect, server_settings(data), period, dry_run=dry_run, progress=bar.update)
    if as_json:
        print_json(report.as_json())
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {report.removed_blobs} blobs ({report.freed_bytes} bytes); kept {report.kept_blobs}; "
        f"removed {report.upload_sessions_removed} expired upload sessions"
    )


def add_admin_commands(admin: click.Group) -> None:
    from .account_commands import orgs, set_fullname

    for command in (tokens, users, audit, gc, set_fullname, orgs):
        admin.add_command(command)

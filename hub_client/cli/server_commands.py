"""`hub serve` and `hub admin create-token`: run the hub server and mint tokens (the other
`hub admin` commands live in admin_commands.py).

The server package is imported only when these commands run, so the client CLI stays
light for people who never host a hub.
"""

from __future__ import annotations

import click

from ._output import json_option, print_json
from .server_settings import ServerCommandError, server_settings


@click.command("serve")
@click.option("--data", type=click.Path(file_okay=False), envvar="HUB_DATA", help="Data directory (HUB_DATA).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--access-log",
    "access_log",
    default="off",
    show_default=True,
    envvar="HUB_ACCESS_LOG",
    metavar="FILE|-|off",
    help="One line per request: appended to FILE, '-' for the terminal (stderr), or off (HUB_ACCESS_LOG).",
)
@click.option(
    "--log-format",
    "log_format",
    type=click.Choice(["json", "text"]),
    default="json",
    show_default=True,
    envvar="HUB_ACCESS_LOG_FORMAT",
    help="Access log lines as JSON objects or as readable text (HUB_ACCESS_LOG_FORMAT).",
)
@click.pass_context
def serve(
    ctx: click.Context, data: str | None, host: str, port: int, workers: int, access_log: str, log_format: str
) -> None:
    """Run the hub server (uvicorn). The terminal shows where it listens and any error; `hub -v serve` adds
    the server's own logs, --access-log a line per request."""
    import os

    import uvicorn

    from hub_server.app import build_hub

    # every worker builds its app from the environment: the choices travel there
    os.environ["HUB_ACCESS_LOG"] = "stderr" if access_log == "-" else access_log
    os.environ["HUB_ACCESS_LOG_FORMAT"] = log_format
    settings = server_settings(data)
    os.environ["HUB_DATA"] = str(settings.data.resolve())
    build_hub(settings).db.dispose()  # migrate once before the workers start
    where = (
        f"data: {settings.data.resolve()}"
        if settings.uses_data_dir()
        else "no local state: database and storage by URL"
    )
    click.echo(f"Adapter Hub on http://{host}:{port} ({where})", err=True)
    uvicorn.run(
        "hub_server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info" if ctx.find_root().params.get("verbose") else "warning",
        access_log=False,
    )  # the hub writes its own access log (--access-log)


@click.group("admin")
def admin() -> None:
    """Administration of a hub data directory."""


@admin.command("create-token")
@click.argument("user")
@click.option(
    "--scope",
    type=click.Choice(["read", "write", "evaluate", "admin"]),
    default="write",
    show_default=True,
    help="evaluate: a worker's token (`hub worker`): reads, reports evaluation results and delivers webhooks.",
)
@click.option("--org", "orgs", multiple=True, help="Make USER a member of this org (repeatable).")
@click.option("--expires", default=None, help="Lifetime, e.g. 30d, 12h, 1w (default: never expires).")
@click.option("--name", default="", help="A label shown by `hub admin tokens list`.")
@click.option("--data", type=click.Path(file_okay=False), envvar="HUB_DATA", help="Data directory (HUB_DATA).")
@json_option
def create_token(
    user: str, scope: str, orgs: tuple[str, ...], expires: str | None, name: str, data: str | None, as_json: bool
) -> None:
    """Create USER if missing and print a new token for them (only the token)."""
    from hub_server.admin import create_user_token
    from hub_server.errors import ServiceError

    try:
        made = create_user_token(server_settings(data), user, scope, orgs, expires_in=expires, name=name)
    except ServiceError as exc:
        raise ServerCommandError(exc.message) from None
    if as_json:
        print_json({"user": user, "scope": scope, "orgs": list(orgs), "expires": expires, "name": name, "token": made})
        return
    click.echo(made)


def _attach_admin_commands() -> None:
    """``hub admin``'s other commands live in their own modules (which never import this one)."""
    from .admin_commands import add_admin_commands
    from .quota_commands import quota

    add_admin_commands(admin)
    admin.add_command(quota)


_attach_admin_commands()

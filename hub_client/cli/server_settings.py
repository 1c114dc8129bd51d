"""How the operator commands (`hub serve`, `hub admin ...`) reach the server package: its settings and the
one error they raise. Shared by ``server_commands`` and ``admin_commands``, which register each other's
commands and so must not import each other for these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import HubError

__all__ = ["ServerCommandError", "server_settings"]


class ServerCommandError(HubError):
    code = "server"


def server_settings(data: str | None) -> Any:
    """The server's settings for a data directory (or from ``HUB_*`` alone); one line when the server is missing."""
    try:
        from hub_server.settings import Settings
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ServerCommandError("the server is not installed: pip install 'adapter-hub[server]'") from exc
    return Settings(data=Path(data)) if data else Settings()


DATA_OPTION = click.option(
    "--data", type=click.Path(file_okay=False), envvar="HUB_DATA", help="Data directory (HUB_DATA)."
)


def server_call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a hub_server service function for an admin command; its one-line refusal becomes the CLI's error."""
    from hub_server.errors import ServiceError

    try:
        return func(*args, **kwargs)
    except ServiceError as exc:
        raise ServerCommandError(exc.message) from None

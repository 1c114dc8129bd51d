"""The `hub` command group: parses, delegates, and turns every user error into one line.

Commands are found by name in ``COMMANDS`` and imported only when asked for (click's lazy-group pattern):
``hub --version`` imports no command module, ``hub pull`` imports only ``repo_commands``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from .. import __version__
from ..errors import HubError

# name -> "module:attribute" in this package; the attribute is a click command (or group)
COMMANDS: dict[str, str] = {
    "admin": "server_commands:admin",
    "base": "model_commands:base_group",
    "cache": "cache_commands:cache",
    "combine": "compose_commands:combine_cmd",
    "compose": "find_commands:compose_cmd",
    "evaluate": "evaluate_commands:evaluate_cmd",
    "find": "find_commands:find_cmd",
    "info": "repo_commands:info",
    "keys": "key_commands:keys",
    "leaderboard": "worker_commands:leaderboard_cmd",
    "login": "auth_commands:login",
    "logout": "auth_commands:logout",
    "merge": "compose_commands:merge_cmd",
    "methods": "model_commands:methods_command",
    "pull": "repo_commands:pull",
    "push": "repo_commands:push",
    "run": "compose_commands:run_cmd",
    "search": "repo_commands:search",
    "serve": "server_commands:serve",
    "serve-model": "serve_commands:serve_model",
    "token": "token_commands:token",
    "train": "train_commands:train_cmd",
    "verify": "key_commands:verify",
    "versions": "repo_commands:versions",
    "webhooks": "webhook_commands:webhooks",
    "whoami": "auth_commands:whoami",
    "worker": "worker_commands:worker_cmd",
    "yank": "repo_commands:yank",
}


def _is_user_error(exc: BaseException) -> bool:
    """HubError, a shared-rule refusal (one line by construction, e.g. a bad ``HUB_*`` value) or AdapterError."""
    if isinstance(exc, HubError):
        return True
    # A RuleError or AdapterError can only exist once its module has been imported (by the code that raised
    # it), so the classes are looked up there rather than imported: `hub --version` loads neither package.
    for module, name in (("hub_rules.errors", "RuleError"), ("adapters.errors", "AdapterError")):
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(exc, getattr(loaded, name)):
            return True
    return False


def _refuse_adapters_clash() -> None:
    """Before any command runs (most import the ML core, and which ``adapters`` Python would import is then
    a matter of path order), refuse in one line when AdapterHub's ``adapters`` is installed here too.
    ``hub --help`` and ``hub --version`` still answer: click handles them before ``invoke``."""
    from hub_rules.import_clash import adapters_clash

    message = adapters_clash()
    if message is not None:
        click.echo(f"error: {message}", err=True)
        sys.exit(1)


class HubGroup(click.Group):
    """Loads commands on demand and maps HubError / AdapterError to `error: ...` on stderr and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        _refuse_adapters_clash()
        from .logs import configure_logging

        configure_logging(ctx.params.get("verbose", 0))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if _is_user_error(exc) or isinstance(exc, (FileNotFoundError, NotADirectoryError, PermissionError)):
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
            raise


@click.group(cls=HubGroup)
@click.version_option(__version__)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show library logs and warnings (transformers, bitsandbytes, ...); -vv for debug logs.",
)
def main(verbose: int) -> None:
    """Adapter Hub: push, pull, stack and merge adapters on pinned base models."""

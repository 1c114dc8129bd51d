"""The `hub` command group: parses, delegates, and turns every user error into one line."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import HubError


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
    """Maps HubError / AdapterError to `error: ...` on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        _refuse_adapters_clash()
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
@click.version_option(package_name="adapter-hub")
def main() -> None:
    """Adapter Hub: push, pull, stack and merge adapters on pinned base models."""


def _register_all() -> None:
    from . import (
        cache_commands,
        compose_commands,
        find_commands,
        key_commands,
        model_commands,
        repo_commands,
        server_commands,
        token_commands,
        train_commands,
    )

    for module in (
        repo_commands,
        server_commands,
        model_commands,
        train_commands,
        compose_commands,
        cache_commands,
        key_commands,
        find_commands,
    ):
        module.register(main)
    token_commands.register(main)
    from . import quota_commands

    quota_commands.register(main)  # a subgroup of `hub admin`: after server_commands
    from . import serve_commands

    serve_commands.register(main)


_register_all()

"""Placeholder: commands are added by their owners."""

import click


def register(group: click.Group) -> None:
    """Attach this module's commands to the `hub` group."""

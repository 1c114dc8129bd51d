"""Output helpers shared by the repo commands: aligned tables for people, JSON for scripts,
warnings as one ``warning: ...`` line, and the options every hub command accepts.
"""

from __future__ import annotations

import contextlib
import functools
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..errors import HubWarning


def _progress_off_by_default() -> bool:
    from ..settings import settings

    return settings().no_progress


def no_progress_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--no-progress`` for commands with long work; unset, it follows ``HUB_NO_PROGRESS`` (one rule for every
    bar: the hub's own and the training libraries' alike)."""
    return click.option(
        "--no-progress",
        is_flag=True,
        default=_progress_off_by_default,
        help="Hide progress bars (default: on unless HUB_NO_PROGRESS=1).",
    )(func)


def client_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--endpoint`` and ``--token`` (both also read from HUB_ENDPOINT / HUB_TOKEN)."""

    @click.option("--token", default=None, help="Access token (default: HUB_TOKEN, then `hub login`).")
    @click.option("--endpoint", default=None, help="Hub URL (default: HUB_ENDPOINT, then `hub login`).")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(func)


def make_client(endpoint: str | None, token: str | None) -> Any:
    from ..client import HubClient

    return HubClient(endpoint=endpoint, token=token)


def hub_resolver() -> Any:
    """The resolver that finds ``hub://`` bases, imported when a command runs: the client is heavy and
    ``hub --help`` / ``hub --version`` must not pay for it."""
    from ..bases import hub_resolver as resolver

    return resolver()


@contextlib.contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Show every HubWarning (not only the first per place) as one plain line on stderr; library warnings
    only with ``hub -v`` (see ``logs``)."""
    from .logs import show_warning

    with warnings.catch_warnings():
        warnings.simplefilter("always", HubWarning)
        warnings.showwarning = show_warning
        yield


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def print_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """``columns``: (key, header). Empty input prints a dash line so scripts can tell."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [h for _, h in columns]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def print_fields(pairs: list[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        click.echo(f"{key.ljust(width)}  {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def short_fingerprint(fp: str | None) -> str:
    if not fp:
        return "-"
    algo, _, hexdigest = fp.partition(":")
    return f"{algo}:{hexdigest[:12]}" if hexdigest else fp[:19]

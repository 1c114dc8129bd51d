"""``hub cache ls | verify | prune``: look after the local cache (``HUB_CACHE`` or the user's
cache dir) without a server."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from ._output import human_size, json_option, print_json, print_table


def _cache(cache_dir: Path | None) -> Any:  # -> LocalCache, imported here so `hub --help` stays light
    from .. import config
    from ..cache import LocalCache

    return LocalCache(cache_dir or config.cache_dir())


_cache_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Cache folder (default: HUB_CACHE or the user's cache dir).",
)


@click.group("cache")
def cache() -> None:
    """Inspect, verify and prune the local cache of pulled versions."""


@cache.command("ls")
@_cache_option
@json_option
def ls(cache_dir: Path | None, as_json: bool) -> None:
    """List the cached versions."""
    from ..cache_admin import list_cached

    rows = list_cached(_cache(cache_dir))
    if as_json:
        print_json(rows)
        return
    print_table(
        [
            {
                **r,
                "size": human_size(r["size"]),
                "commit": (r["commit"] or "")[:12],
                "yanked": "yes" if r["yanked"] else "",
            }
            for r in rows
        ],
        [
            ("repo", "REPO"),
            ("version", "VERSION"),
            ("commit", "COMMIT"),
            ("files", "FILES"),
            ("size", "SIZE"),
            ("yanked", "YANKED"),
        ],
    )


@cache.command("verify")
@_cache_option
@click.option("--dry-run", is_flag=True, help="Only report; remove nothing.")
@json_option
def verify(cache_dir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Re-hash every cached blob and snapshot; remove what is corrupt (the next pull refetches it)."""
    from ..cache_admin import verify_cache

    report = verify_cache(_cache(cache_dir), remove=not dry_run)
    if as_json:
        print_json(dataclasses.asdict(report))
    else:
        for digest in report.corrupt_blobs:
            click.echo(f"corrupt blob {digest}" + ("" if dry_run else " (removed)"), err=True)
        for label in report.broken_snapshots:
            click.echo(f"broken snapshot {label}" + ("" if dry_run else " (forgotten)"), err=True)
        click.echo(
            f"checked {report.blobs_checked} blob(s), {human_size(report.bytes_checked)}: "
            + (
                "all intact"
                if report.ok
                else f"{len(report.corrupt_blobs)} corrupt, {len(report.broken_snapshots)} broken snapshot(s)"
            )
        )
    if not report.ok and dry_run:
        sys.exit(1)


@cache.command("prune")
@click.argument("reference", required=False)
@_cache_option
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@json_option
def prune(reference: str | None, cache_dir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Remove unused blobs and leftovers; with NS/NAME[@VERSION], forget those versions first."""
    from ..cache_admin import prune_cache

    report = prune_cache(_cache(cache_dir), reference, dry_run=dry_run)
    if as_json:
        print_json(dataclasses.asdict(report))
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {len(report.snapshots)} snapshot(s), {report.blobs} blob(s) "
        f"({human_size(report.bytes)}), {report.leftovers} leftover(s)"
    )

"""``hub admin quota set|show``: namespace storage quotas, through the admin API of a
running hub (an admin token, from ``--token``, HUB_TOKEN or ``hub login``)."""

from __future__ import annotations

import re
from typing import Any

import click

from ._output import client_options, json_option, make_client, print_fields, print_json

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int | None:
    """``10GB``, ``500MiB``, ``1.5g``, ``1024`` → bytes; ``none`` → None (server default)."""
    if text.strip().lower() in ("none", "default", "unlimited"):
        return None
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise click.BadParameter(f"{text!r}: use a size like 500MB, 10GiB or 'none'")
    return int(float(match.group(1)) * _UNITS[unit])


def _show(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(answer)
    else:
        limit = answer.get("max_bytes")
        print_fields(
            [
                ("namespace", answer.get("namespace")),
                ("quota", "none" if limit is None else f"{limit} bytes"),
                ("used", f"{answer.get('used_bytes')} bytes"),
            ]
        )


@click.group("quota")
def quota() -> None:
    """Storage quotas of namespaces (admin)."""


@quota.command("set")
@click.argument("namespace")
@click.argument("size")
@client_options
@json_option
def set_quota(namespace: str, size: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Allow NAMESPACE at most SIZE of stored blobs (e.g. 10GB; 'none' for the server default)."""
    with make_client(endpoint, token) as client:
        _show(client.set_quota(namespace, parse_size(size)), as_json)


@quota.command("show")
@click.argument("namespace")
@client_options
@json_option
def show_quota(namespace: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Print NAMESPACE's quota and what it uses."""
    with make_client(endpoint, token) as client:
        _show(client.quota(namespace), as_json)

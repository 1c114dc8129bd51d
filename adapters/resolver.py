"""What the core cannot reach by itself, handed in by its caller: references to a hub, and bases by pin.

The ML core reads local directories and the Hugging Face cache. A hub is the client's business, so
the hub client builds a ``Resolver`` and passes it in; imports flow one way, client -> core, never back.
Without a resolver, hub references are refused with one line saying to pull them first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AdapterError

if TYPE_CHECKING:
    from .base.pin import BasePin

__all__ = ["HUB_SCHEME", "RemoteBases", "Resolver", "is_reference", "resolve_adapter"]

HUB_SCHEME = "hub://"

# A source of bases beyond this machine: given a pin, a local directory holding those weights (or None)
# and a few words on what was tried, for the one-line "not found" message.
RemoteBases = Callable[["BasePin"], "tuple[Path | None, str]"]


@dataclass(frozen=True)
class Resolver:
    """``pull``: ``NS/NAME[@VERSION]`` (or ``hub://NS/NAME[@VERSION]``) -> the local directory of that version.
    ``remote_bases``: consulted after the local base index and before the Hugging Face cache."""

    pull: Callable[[str], Path] | None = None
    remote_bases: RemoteBases | None = None


def is_reference(ref: str | Path) -> bool:
    """``hub://…`` or ``NS/NAME[@VERSION]`` that is not an existing path."""
    if isinstance(ref, Path):
        return False
    text = str(ref)
    if text.startswith(HUB_SCHEME):
        return True
    return (
        not Path(text).expanduser().exists()
        and text.partition("@")[0].count("/") == 1
        and not text.startswith((".", "/", "~"))
    )


def pull_reference(ref: str, resolver: Resolver | None, what: str) -> Path:
    """The local directory of a hub reference, through the caller's resolver."""
    if resolver is None or resolver.pull is None:
        raise AdapterError(f"{what} {ref!r} is a hub reference; pull it first (`hub pull`) or use the hub CLI")
    return Path(resolver.pull(str(ref)))


def resolve_adapter(ref: str | Path, resolver: Resolver | None = None) -> Path:
    """A local adapter directory, or a hub reference ``NS/NAME[@VERSION]`` pulled by ``resolver``."""
    path = Path(ref).expanduser()
    if path.is_dir():
        return path
    if isinstance(ref, Path) or not is_reference(ref):
        raise AdapterError(f"{ref}: no such adapter directory (hub references look like NS/NAME[@VERSION])")
    return pull_reference(str(ref), resolver, "adapter")

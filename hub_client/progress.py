"""Progress bars for long operations: tqdm on stderr, off when asked or when stderr is no terminal."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm

from .settings import settings


def progress_enabled(requested: bool | None) -> bool | None:
    """``None`` lets tqdm decide (shown on a terminal only); ``HUB_NO_PROGRESS=1`` forces it off."""
    if requested is not None:
        return requested
    if settings().no_progress:
        return False
    return None


def byte_bar(total: int, desc: str, enabled: bool | None) -> tqdm:
    disable = None if enabled is None else not enabled
    return tqdm(
        total=total,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=disable,
        leave=False,
        dynamic_ncols=True,
    )

"""One parser for human durations (``30d``, ``12h``, ``90m``, ``1w``, ``45s``) used by token
expiry and the garbage collector's grace period."""

from __future__ import annotations

import re
from datetime import timedelta

from ..errors import Invalid

_DURATION_RE = re.compile(r"^(\d{1,9})([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_DURATION = timedelta(days=3650)


def parse_duration(text: str | int | None) -> timedelta:
    """``"30d"`` → 30 days; a bare integer is seconds. Refuses anything else with one line."""
    if isinstance(text, int) and not isinstance(text, bool) and text >= 0:
        seconds = text
    else:
        m = _DURATION_RE.match(str(text).strip().lower()) if isinstance(text, str) else None
        if m is None:
            raise Invalid(f"invalid duration {text!r}: use a number with s, m, h, d or w (e.g. 30d)")
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise Invalid(f"duration {text!r} is longer than {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)

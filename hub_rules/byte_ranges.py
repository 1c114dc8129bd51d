"""The one HTTP ``Range`` rule (RFC 9110 §14), for every download route of the server and for
the client checking the ``Content-Range`` of a resumed download.

``Range: bytes=START-END`` (inclusive), ``bytes=START-`` or ``bytes=-SUFFIX``; one range only.
- A header that is not one syntactically valid byte range (other unit, several ranges, END
  before START, garbage) is ignored: the whole body is served (``None``).
- A valid range that selects no byte of the representation (START at or past the size, a
  zero suffix, any range of an empty file) is unsatisfiable: 416.
- END past the last byte is clamped to it. Numbers longer than 18 digits count as "past the end".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import RuleError

_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
_CONTENT_RANGE = re.compile(r"^bytes ([0-9]{1,18})-([0-9]{1,18})/([0-9]{1,18}|\*)$")
_BIG = 10**18


class RangeNotSatisfiable(RuleError):
    """A well-formed range that selects nothing; answer 416 with ``Content-Range: bytes */SIZE``."""

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"range {header[:80]!r} is outside the {size} bytes of the file")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else _BIG


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The inclusive span to send, ``None`` for the whole body; raises ``RangeNotSatisfiable``."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if m is None:
        return None
    first, last = m.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = _number(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header, size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = _number(first)
    end = _number(last) if last else None
    if end is not None and end < start:
        return None  # invalid byte-range-spec: the header is ignored
    if start >= size:
        raise RangeNotSatisfiable(header, size)
    return ByteRange(start, size - 1 if end is None else min(end, size - 1))


def parse_content_range(header: str | None) -> tuple[int, int, int | None] | None:
    """``bytes START-END/SIZE`` of a 206 answer → (start, end, size or None); None if malformed."""
    if not header:
        return None
    m = _CONTENT_RANGE.fullmatch(header.strip())
    if m is None or int(m.group(2)) < int(m.group(1)):
        return None
    size = None if m.group(3) == "*" else int(m.group(3))
    if size is not None and int(m.group(2)) >= size:
        return None
    return int(m.group(1)), int(m.group(2)), size

"""Blob responses with HTTP Range support (one range; 206 / 416), streamed in chunks so
a large file never sits in server memory."""

from __future__ import annotations

import re

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from ..errors import RangeNotSatisfiable
from ..services.context import Hub

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end), or None for the whole body; unsatisfiable → 416."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None  # multiple or malformed ranges: serve everything (RFC 9110 allows ignoring)
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
        if int(m.group(2) or start) < start:
            return None
    else:
        start, end = max(size - int(m.group(2)), 0), size - 1
        if int(m.group(2)) == 0:
            start = size
    if start >= size:
        error = RangeNotSatisfiable(f"range {header} is outside {size} bytes", size=size)
        error.headers["Content-Range"] = f"bytes */{size}"
        raise error
    return start, end


def blob_response(hub: Hub, digest: str, size: int, range_header: str | None, *, method: str = "GET",
                  headers: dict[str, str] | None = None) -> Response:
    span = parse_range(range_header, size)
    base = {"Accept-Ranges": "bytes", "ETag": f'"{digest.split(":", 1)[1]}"', **(headers or {})}
    if span is None:
        status, start, end = 200, 0, size - 1
    else:
        status, (start, end) = 206, span
        base["Content-Range"] = f"bytes {start}-{end}/{size}"
    base["Content-Length"] = str(max(end - start + 1, 0))
    if method == "HEAD" or size == 0:
        return Response(status_code=status, headers=base, media_type="application/octet-stream")
    body = iterate_in_threadpool(iter(hub.store.open(digest, start, end)))
    return StreamingResponse(body, status_code=status, headers=base, media_type="application/octet-stream")

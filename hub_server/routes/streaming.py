"""Blob responses with HTTP Range support (one range; 206 / 416), streamed in chunks so
a large file never sits in server memory — or a 302 to storage when redirects are on."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from hub_rules import ByteRange
from hub_rules import RangeNotSatisfiable as Unsatisfiable
from hub_rules import parse_range as rules_parse_range

from ..errors import RangeNotSatisfiable
from ..services.context import Hub
from ..services.downloads import storage_redirect_url

# What a byte-serving route documents: the bytes (whole or a Range), or a redirect to storage.
BYTES_RESPONSES: dict = {
    200: {"description": "the bytes", "content": {"application/octet-stream": {}}},
    206: {"description": "the requested range", "content": {"application/octet-stream": {}}},
    302: {"description": "a short-lived storage URL (HUB_STORAGE_REDIRECT)"},
}


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The shared Range rule (``hub_rules.parse_range``); unsatisfiable → 416 with ``bytes */SIZE``."""
    try:
        return rules_parse_range(header, size)
    except Unsatisfiable as exc:
        error = RangeNotSatisfiable(str(exc), size=size)
        error.headers["Content-Range"] = f"bytes */{size}"
        raise error from None


def blob_response(
    hub: Hub,
    digest: str,
    size: int,
    range_header: str | None,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    filename: str | None = None,
) -> Response:
    base = {"Accept-Ranges": "bytes", "ETag": f'"{digest.split(":", 1)[1]}"', **(headers or {})}
    if method == "GET" and size > 0 and (url := storage_redirect_url(hub, digest, filename)):
        # storage answers the Range itself; the 302 must not outlive the URL
        return Response(
            status_code=302, headers={**base, "Location": url, "Cache-Control": "no-store", "X-Hub-Size": str(size)}
        )
    span = parse_range(range_header, size)
    if span is None:
        status, start, end = 200, 0, size - 1
    else:
        status, start, end = 206, span.start, span.end
        base["Content-Range"] = span.content_range(size)
    base["Content-Length"] = str(max(end - start + 1, 0))
    if method == "HEAD" or size == 0:
        return Response(status_code=status, headers=base, media_type="application/octet-stream")
    body = iterate_in_threadpool(iter(hub.store.open(digest, start, end)))
    return StreamingResponse(body, status_code=status, headers=base, media_type="application/octet-stream")

"""Blob bytes at wire speed: one urllib3 pool reading 1 MiB at a time, beside httpx for the API calls.

httpx's streaming path costs several Python calls per 64 KiB piece; on a 500 MB blob that, not the
network, was the limit. urllib3 reads straight from the socket into large buffers. Only GET of blob
bytes goes through here; status codes still become ``HubError``s through ``_http``'s one mapping, and
everything the puller checks (declared size, digest, Content-Range) is unchanged. When a custom httpx
transport is given (the seam tests use to drop connections), blob bytes go through httpx as well.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urljoin

import httpx
import urllib3

from . import errors

CHUNK = 1 << 20


@dataclass
class BulkAnswer:
    """A successful streaming answer: status, headers and raw (undecoded) body chunks."""

    status_code: int
    headers: httpx.Headers
    chunks: Iterator[bytes]


class BulkReader:
    def __init__(self, endpoint: str, headers: dict[str, str], timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.headers = dict(headers)
        # redirects followed (presigned storage URLs; urllib3 drops Authorization on a cross-host hop),
        # nothing retried here: the puller resumes with a Range request itself
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5)
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=4, retries=retries,
                                         timeout=urllib3.Timeout(connect=10.0, read=timeout))

    def close(self) -> None:
        self._pool.clear()

    @contextlib.contextmanager
    def get(self, path: str, headers: dict[str, str], error_from) -> Iterator[BulkAnswer]:
        url = urljoin(self.endpoint, path.lstrip("/"))
        sent = {**self.headers, "Accept-Encoding": "identity", **headers}
        try:
            response = self._pool.request("GET", url, headers=sent, preload_content=False, decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise errors.TransportError(f"cannot reach {self.endpoint}: {exc or type(exc).__name__}") from exc
        try:
            head = httpx.Headers(list(response.headers.items()))
            if not 200 <= response.status < 300:
                body = response.read(64 * 1024, decode_content=False)
                request = httpx.Request("GET", url)
                raise error_from(httpx.Response(response.status, headers=[
                    (k, v) for k, v in head.multi_items() if k.lower() != "content-encoding"
                ], content=body, request=request))
            yield BulkAnswer(response.status, head, _chunks(response, self.endpoint))
        finally:
            response.close()  # never drained: a hostile endless answer must not be read to its end
            response.release_conn()


def _chunks(response, endpoint: str) -> Iterator[bytes]:
    try:
        while True:
            chunk = response.read(CHUNK, decode_content=False)
            if not chunk:
                return
            yield chunk
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise errors.TransportError(f"connection to {endpoint} dropped: {exc or type(exc).__name__}") from exc

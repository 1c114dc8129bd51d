"""Blob bytes at wire speed: urllib3 opens the request (pool, redirects to presigned storage URLs),
then the body is read with ``readinto`` straight into the puller's reusable buffers, beside httpx
for the API calls.

httpx's streaming path costs several Python calls and a fresh ``bytes`` per 64 KiB piece, and
urllib3's own ``read(n)`` copies every byte twice more (``bytearray`` → ``bytes`` → its buffer); on a
500 MB blob those copies, not the network, were the limit. Here each byte is copied once, from the
socket into a buffer that is then written and hashed in place. Only GET of blob bytes goes through
here; status codes still become ``HubError``s through ``_http``'s one mapping, and everything the
puller checks (declared size, digest, Content-Range) is unchanged. When a custom httpx transport is
given (the seam tests use to drop connections), blob bytes go through httpx as well
(``IterReader`` gives that path the same ``readinto``).
"""

from __future__ import annotations

import contextlib
import http.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
import urllib3

from . import errors

_DROPPED = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


@dataclass
class BulkAnswer:
    """A successful streaming answer: status, headers and ``readinto`` of the raw (undecoded) body,
    returning 0 at its end; a dropped connection raises ``TransportError``."""

    status_code: int
    headers: httpx.Headers
    readinto: Callable[[memoryview], int]


class IterReader:
    """``readinto`` over an iterator of ``bytes`` chunks (the httpx path)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = memoryview(b"")

    def readinto(self, view: memoryview) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = memoryview(chunk)
        n = min(len(view), len(self._left))
        view[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


class BulkReader:
    def __init__(self, endpoint: str, headers: dict[str, str], timeout: float) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.headers = dict(headers)
        # redirects followed (presigned storage URLs; urllib3 drops Authorization on a cross-host hop),
        # nothing retried here: the puller resumes with a Range request itself
        retries = urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5)
        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=4, retries=retries, timeout=urllib3.Timeout(connect=10.0, read=timeout)
        )

    def close(self) -> None:
        self._pool.clear()

    @contextlib.contextmanager
    def get(self, path: str, headers: dict[str, str], error_from: Callable[..., Exception]) -> Iterator[BulkAnswer]:
        url = urljoin(self.endpoint, path.lstrip("/"))
        sent = {**self.headers, "Accept-Encoding": "identity", **headers}
        try:
            response = self._pool.request("GET", url, headers=sent, preload_content=False, decode_content=False)
        except _DROPPED as exc:
            raise errors.TransportError(f"cannot reach {self.endpoint}: {exc or type(exc).__name__}") from exc
        try:
            head = httpx.Headers(list(response.headers.items()))
            if not 200 <= response.status < 300:
                body = response.read(64 * 1024, decode_content=False)
                request = httpx.Request("GET", url)
                raise error_from(
                    httpx.Response(
                        response.status,
                        headers=[(k, v) for k, v in head.multi_items() if k.lower() != "content-encoding"],
                        content=body,
                        request=request,
                    )
                )
            yield BulkAnswer(response.status, head, _reader(response, self.endpoint))
        finally:
            response.close()  # never drained: a hostile endless answer must not be read to its end
            response.release_conn()


def _reader(response: urllib3.BaseHTTPResponse, endpoint: str) -> Callable[[memoryview], int]:
    """``readinto`` of the http.client answer under urllib3's: it fills the buffer from the socket
    directly, with Content-Length and chunked framing enforced (urllib3's own readinto reads a copy
    first; it is the fallback if urllib3 ever changes). A body cut short is a ``TransportError``
    (the puller resumes), after the bytes that did arrive are handed over."""
    raw = getattr(response, "_fp", None)
    raw = raw if isinstance(raw, http.client.HTTPResponse) else None
    pending: list[errors.TransportError] = []

    def dropped(exc: BaseException | str) -> errors.TransportError:
        return errors.TransportError(f"connection to {endpoint} dropped: {exc or type(exc).__name__}")

    def readinto(view: memoryview) -> int:
        if pending:
            raise pending[0]
        try:
            if raw is None:
                return response.readinto(view)
            n = raw.readinto(view)
        except http.client.IncompleteRead as exc:  # the bytes before the cut are already in ``view``
            pending.append(dropped(f"body cut after {len(exc.partial)} more bytes"))
            if exc.partial:
                return len(exc.partial)
            raise pending[0] from exc
        except _DROPPED as exc:
            raise dropped(exc) from exc
        if not n and len(view) and raw.length:  # http.client ends quietly short of Content-Length
            raise dropped(f"body ended {raw.length} bytes short of its Content-Length")
        return n

    return readinto

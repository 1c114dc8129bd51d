"""The one httpx client of a HubClient, and the ONE place where HTTP failures become HubErrors.

Everything above this module speaks in ``HubError`` subclasses; nothing else looks at status codes.
A hub may run on several hosts behind a load balancer: when a host dies, its connections drop or
the balancer answers 502/503/504. Those count as transport errors, and idempotent requests are
retried a bounded number of times (the next attempt lands on a surviving host).
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx

from . import errors
from .settings import settings

_BY_CODE = {
    "unauthorized": errors.Unauthorized,
    "forbidden": errors.Forbidden,
    "not_found": errors.NotFound,
    "conflict": errors.Conflict,
    "digest_mismatch": errors.DigestMismatch,
    "invalid": errors.InvalidRequest,
    "missing_blobs": errors.InvalidRequest,
    "too_large": errors.InvalidRequest,
    "range_not_satisfiable": errors.InvalidRequest,
}
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a JSON answer (a manifest of 10,000 files is ~2 MB)
MAX_ERROR_BYTES = 64 * 1024
_BY_STATUS = {
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    429: errors.RateLimited,
    502: errors.TransportError,
    503: errors.TransportError,
    504: errors.TransportError,
}
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "OPTIONS"})
ATTEMPTS = 4  # tries of one idempotent request before a transport error reaches the caller


def max_rate_wait() -> float:
    """``HUB_MAX_RATE_WAIT`` seconds (default 10; 0: never wait). A 429 is answered before the hub does
    anything, so any request may be sent again once the hub says so; a longer wait (a daily quota, a long
    window) is shown to the caller instead."""
    return max(0.0, settings().max_rate_wait)


@functools.lru_cache(maxsize=4)
def _tls_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()  # reads the same two variables


def tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, built once per process (per SSL_CERT_FILE / SSL_CERT_DIR):
    loading the CA bundle costs ~0.1 s of CPU, which every new client used to pay again."""
    current = settings()
    return _tls_context(current.ssl_cert_file, current.ssl_cert_dir)


def _error_from(response: httpx.Response) -> errors.HubError:
    code, message = None, None
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code, message = err.get("code"), err.get("message")
        elif isinstance(err, str):  # the HF-shaped routes (webhooks, discussions): {"error": "message"}
            message = err
        elif isinstance(body, dict) and "detail" in body:
            message = str(body["detail"])
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's recursion limit
        pass
    status = response.status_code
    cls = _BY_STATUS.get(status) if status in (502, 503, 504) else None
    cls = cls or _BY_CODE.get(code or "") or _BY_STATUS.get(status)
    if cls is None:
        cls = errors.InvalidRequest if 400 <= status < 500 else errors.HubError
    if not message:
        message = response.reason_phrase or f"HTTP {status}"
    message = " ".join(str(message).split())[:500]  # a server's text is shown as one bounded line
    if cls is errors.Unauthorized and "login" not in message:
        message = f"{message} (log in with `hub login` or pass a token)"
    exc = cls(f"{message} [{status} {response.request.method} {response.request.url.path}]", code=code, status=status)
    if isinstance(exc, errors.RateLimited):
        exc.retry_after = _seconds(response.headers.get("retry-after"))
    exc.response_headers = dict(response.headers)  # type: ignore[attr-defined]
    exc.body = _safe_json(response)  # type: ignore[attr-defined]
    return exc


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: not waited for


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        return None


class HubHTTP:
    """A thin wrapper over ``httpx.Client``: base URL, bearer token, error translation."""

    def __init__(
        self,
        endpoint: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        event_hooks: dict[str, Any] | None = None,
    ) -> None:
        headers = {"User-Agent": "adapter-hub-client/0.1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.endpoint = endpoint
        from ._bulk import BulkReader

        # a custom transport or event hooks must see every request, blobs included: then httpx carries them
        self._bulk = None if (transport is not None or event_hooks) else BulkReader(endpoint, headers, timeout)
        self._client = httpx.Client(
            base_url=endpoint,
            headers=headers,
            transport=transport,
            verify=tls_context(),
            timeout=httpx.Timeout(timeout, connect=10.0),
            event_hooks=event_hooks or {},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()
        if self._bulk is not None:
            self._bulk.close()

    @contextlib.contextmanager
    def bulk_get(self, path: str, headers: dict[str, str]) -> Iterator[Any]:
        """GET of bulk bytes (blobs): yields an answer with ``status_code``, ``headers`` and ``readinto``.
        Over urllib3 with ``readinto`` into the caller's buffers; over httpx when a custom transport or event
        hooks were given."""
        if self._bulk is not None:
            with self._bulk.get(path, headers, _error_from) as answer:
                yield answer
            return
        from ._bulk import BulkAnswer, IterReader

        with self.stream("GET", path, headers=headers) as response:
            yield BulkAnswer(response.status_code, response.headers, IterReader(response.iter_raw()).readinto)

    def request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (), retry: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send one request; 2xx (or a status in ``ok``) returns, anything else raises a HubError.
        The answer is read up to ``MAX_ANSWER_BYTES``: a server cannot make the client buffer without bound.
        ``retry`` (default: for idempotent methods) repeats it on transport errors with backoff;
        callers pass ``retry=True`` for POSTs the hub makes idempotent (publish, start upload)."""
        attempts = ATTEMPTS if (method.upper() in _IDEMPOTENT if retry is None else retry) else 1
        attempt = limited = 0
        while True:
            try:
                return self._send(method, path, ok, **kwargs)
            except errors.RateLimited as exc:
                limited += 1
                wait = exc.retry_after
                if wait is None or wait > max_rate_wait() or limited >= ATTEMPTS:
                    raise
                time.sleep(wait)
            except errors.TransportError:
                attempt += 1
                if attempt >= attempts:
                    raise
                time.sleep(min(0.25 * 2 ** (attempt - 1), 2.0))

    def _send(self, method: str, path: str, ok: tuple[int, ...], **kwargs: Any) -> httpx.Response:
        try:
            with self._client.stream(method, path, **kwargs) as streamed:
                body = _read_bounded(streamed, MAX_ANSWER_BYTES)
        except httpx.TransportError as exc:
            raise errors.TransportError(f"cannot reach {self.endpoint}: {exc or type(exc).__name__}") from exc
        headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() != "content-encoding"]
        response = httpx.Response(streamed.status_code, headers=headers, content=body, request=streamed.request)
        if response.is_success or response.status_code in ok:
            return response
        raise _error_from(response)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except (ValueError, RecursionError):
            raise errors.BadServerAnswer(
                f"{self.endpoint} answered {method} {path} with something that is not JSON (or nested too deep)"
            ) from None

    @contextlib.contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """Streaming request; errors are translated both on connect and while reading the body."""
        try:
            with self._client.stream(method, path, **kwargs) as response:
                if not response.is_success:
                    body = _read_bounded(response, MAX_ERROR_BYTES, truncate=True)
                    raise _error_from(
                        httpx.Response(
                            response.status_code,
                            headers=[
                                (k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"
                            ],
                            content=body,
                            request=response.request,
                        )
                    )
                yield response
        except httpx.TransportError as exc:
            raise errors.TransportError(f"connection to {self.endpoint} dropped: {exc or type(exc).__name__}") from exc


def _read_bounded(response: httpx.Response, limit: int, *, truncate: bool = False) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - limit)])
                break
            raise errors.BadServerAnswer(
                f"{response.request.method} {response.request.url.path} answered more than {limit} bytes; refused"
            )
        chunks.append(chunk)
    return b"".join(chunks)

"""The ASGI middleware that refuses before the app spends anything: rate buckets first,
then credentials for API writes, then the body size (Content-Length, then counted as it
streams) and the JSON nesting depth. Refusals use the hub's errors, rendered natively or, on
the HF-compatible paths, by ``hf_views``."""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import Invalid, ServiceError, TooLarge, TooManyRequests, Unauthorized, Unprocessable
from ..services import hf_views
from ..settings import Settings
from .body import body_limit, counting_receive, read_body, replay, too_large
from .depth import json_depth_exceeds
from .rates import SAFE_METHODS, RateLimits

_UNLIMITED_PATHS = frozenset({"/healthz"})


_HF_FILE = re.compile(r"/[^/]+/[^/]+/resolve/")


def _hf_path(path: str) -> bool:
    """The HF-compatible API answers errors the HF way (``hf_views.error``)."""
    return (path.startswith("/api/") and not path.startswith("/api/v1/")) or _HF_FILE.match(path) is not None


async def send_error(send: Send, path: str, exc: ServiceError) -> None:
    if _hf_path(path):
        status, content, headers = hf_views.error(exc)
    else:
        status, content = exc.status, {"error": {"code": exc.code, "message": exc.message, **exc.extra}}
        headers = {**exc.headers, "X-Error-Message": hf_views.header_safe(exc.message)}
    body = json.dumps(content).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _is_json(content_type: str | None, path: str = "") -> bool:
    """Whether the app may parse this body as JSON: any body the API gets, except forms (its
    routes read JSON whatever the declared type, so a deep ``text/plain`` body is checked too)."""
    kind = (content_type or "").lower()
    if path.startswith("/api/") and not kind.startswith(("multipart/", "application/x-www-form-urlencoded")):
        return True
    return not kind or "json" in kind


def _has_nul(scope: Scope) -> bool:
    """A NUL in the path or the query string: no name, tag or word has one, and PostgreSQL refuses
    it in a string, so it is answered 400 here once for every route."""
    query = scope.get("query_string", b"").lower()
    return "\x00" in scope["path"] or b"%00" in query or b"\x00" in query


# An anonymous pull of a public repo is reported like any other (a read, counted once per pull).
_PULL_REPORT = re.compile(r"/api/v1/repos/[^/]+/[^/]+/versions/[^/]+/pulls")
# Card validation stores nothing and the HF Hub answers it without a token (``RepoCard.validate``).
_ANONYMOUS_POSTS = ("/api/validate-yaml",)
# Native upload bodies: a credential whose account is at its limit of bodies in flight is refused here, before
# the token or the upload session is looked up (``BodySlots.refusal``).
_UPLOAD_BODY = re.compile(r"/api/v1/uploads/[^/]+")


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, rates: RateLimits) -> None:
        self.app, self.settings, self.rates = app, settings, rates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        method, path, headers = scope["method"], scope["path"], Headers(scope=scope)
        address = (scope.get("client") or ("unknown", 0))[0]
        authorization = headers.get("authorization")

        refusal = await self.rates.admit(method, authorization, address)
        if refusal is not None:
            await send_error(send, path, TooManyRequests(refusal.message, refusal.retry_after))
            return
        if _has_nul(scope):
            await send_error(send, path, Invalid("NUL characters are not allowed in the path or query string"))
            return
        if (
            method not in SAFE_METHODS
            and path.startswith("/api/")
            and not authorization
            and "cookie" not in headers
            and not _PULL_REPORT.fullmatch(path)
            and path not in _ANONYMOUS_POSTS
        ):
            await send_error(send, path, Unauthorized("this call needs a token (hub login)"))
            return

        limit, streamed = body_limit(method, path, self.settings)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await send_error(
                send, path, too_large(limit, path) if declared.isdigit() else Invalid("bad Content-Length")
            )
            return
        receive = counting_receive(receive, limit, path)
        if not streamed and method not in SAFE_METHODS and _is_json(headers.get("content-type"), path):
            try:
                body = await read_body(receive)
            except TooLarge as exc:
                await send_error(send, path, exc)
                return
            if b"\\u0000" in body:  # a NUL in a JSON string: no name, tag or text has one (PostgreSQL refuses it)
                await send_error(send, path, Invalid("NUL characters are not allowed in the body"))
                return
            if body and json_depth_exceeds(body, self.settings.max_json_depth):
                await send_error(
                    send, path, Unprocessable(f"JSON nested deeper than {self.settings.max_json_depth} levels")
                )
                return
            receive = replay(body, receive)
        if authorization and method in ("PATCH", "PUT") and _UPLOAD_BODY.fullmatch(path):
            slots = getattr(scope["app"].state.hub, "body_slots", None)
            refused = slots.refusal(authorization) if slots is not None else None
            if refused is not None:
                await send_error(send, path, refused)
                return
        await self._run(scope, receive, send, authorization, address)

    async def _run(self, scope: Scope, receive: Receive, send: Send, authorization: str | None, address: str) -> None:
        status, path = 0, scope["path"]

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except TooLarge as exc:
            if status:
                raise
            await send_error(send, path, exc)
        if status == 401 and authorization:
            await self.rates.auth_failed(address)

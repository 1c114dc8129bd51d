"""Request ids and the access log.

Every HTTP request gets a fresh id: services see it (audit rows carry it), the response
echoes it as ``X-Request-Id``, and one line per request goes to the ``hub_server.access`` logger,
where the operator chose (``HUB_ACCESS_LOG``: stderr, a file, or off) in the format they chose
(``HUB_ACCESS_LOG_FORMAT``): JSON ``{"request_id", "method", "path", "status", "ms", "user"}``
or a text line that also names the client address, ``127.0.0.1 alice "GET /path" 200 1.2ms id=...``.
A pure ASGI middleware, so streamed downloads pass through untouched."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from .public_url import scope_base
from .request_context import reset_public_base, reset_request_id, set_public_base, set_request_id

LOGGER_NAME = "hub_server.access"
FORMATS = ("json", "text")
_HANDLER_NAME = "hub-access-log"
_OFF = ("off", "none", "0", "false", "")


def configure_access_log(target: str, fmt: str = "json") -> logging.Logger:
    """``target``: ``"stderr"`` (or ``-``), ``"off"``, or a file path (appended to; one line per request);
    ``fmt``: ``json`` or ``text``."""
    if fmt not in FORMATS:
        raise ValueError(f"HUB_ACCESS_LOG_FORMAT={fmt!r}: expected one of {', '.join(FORMATS)}")
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    if target.lower() in _OFF:
        logger.setLevel(logging.CRITICAL + 1)
        return logger
    to_stderr = target.lower() in ("stderr", "-")
    handler = logging.StreamHandler(sys.stderr) if to_stderr else logging.FileHandler(target)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.hub_format = fmt  # type: ignore[attr-defined]
    return logger


def _line(fields: dict, client: str | None, fmt: str) -> str:
    if fmt == "text":
        return (
            f'{client or "-"} {fields["user"] or "-"} "{fields["method"]} {fields["path"]}" '
            f"{fields['status']} {fields['ms']}ms id={fields['request_id']}"
        )
    return json.dumps(fields, ensure_ascii=False)


class RequestLogMiddleware:
    def __init__(self, app) -> None:
        self.app = app
        self.logger = logging.getLogger(LOGGER_NAME)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        token = set_request_id(request_id)
        base_token = set_public_base(scope_base(scope))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_public_base(base_token)
            reset_request_id(token)
            if self.logger.isEnabledFor(logging.INFO):
                client = scope.get("client")
                fields = {
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user": state.get("user"),
                }
                address = client[0] if client else None
                self.logger.info(_line(fields, address, getattr(self.logger, "hub_format", "json")))

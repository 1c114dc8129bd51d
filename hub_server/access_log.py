"""Request ids and the structured access log.

Every HTTP request gets a fresh id: services see it (audit rows carry it), the response
echoes it as ``X-Request-Id``, and one JSON line per request goes to the
``hub_server.access`` logger: ``{"request_id", "method", "path", "status", "ms", "user"}``.
A pure ASGI middleware, so streamed downloads pass through untouched."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from .request_context import reset_request_id, set_request_id

LOGGER_NAME = "hub_server.access"
_HANDLER_NAME = "hub-access-log"


def configure_access_log(target: str) -> logging.Logger:
    """``"stderr"`` (default), ``"off"``, or a file path (appended to; one line per request)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    if target.lower() in ("off", "none", "0", "false", ""):
        logger.setLevel(logging.CRITICAL + 1)
        return logger
    handler = logging.StreamHandler(sys.stderr) if target.lower() == "stderr" else logging.FileHandler(target)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


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
                message = {**message, "headers": [*message.get("headers", []),
                                                   (b"x-request-id", request_id.encode())]}
            await send(message)

        token = set_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)
            if self.logger.isEnabledFor(logging.INFO):
                self.logger.info(json.dumps({
                    "request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                    "status": status, "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user": state.get("user"),
                }, ensure_ascii=False))

"""The model server's one error type: an HTTP status and a one-line message, rendered per protocol.

Every refusal (unknown adapter, adapter pinned to other weights, bad parameter, missing token) is a
``ServeError`` raised before any work; ``app.py`` renders it as OpenAI's ``{"error": {...}}`` on ``/v1``
and as TGI's ``{"error", "error_type"}`` elsewhere.
"""

from __future__ import annotations


class ServeError(Exception):
    """``status`` (4xx for the caller's mistakes), a one-line ``message``, OpenAI's ``type`` and ``code``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ):
        super().__init__(" ".join(str(message).split()))
        self.status = status
        self.message = str(self)
        self.type = type
        self.code = code
        self.param = param


def bad_request(message: str, param: str | None = None) -> ServeError:
    return ServeError(400, message, param=param, code="invalid_value")


def not_found(message: str) -> ServeError:
    return ServeError(404, message, type="not_found_error", code="model_not_found", param="model")

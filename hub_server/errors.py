"""Domain errors raised by services; each carries its HTTP status and API code so one
handler in the app renders every failure the same way and routes stay thin."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}


class Invalid(ServiceError):
    status, code = 400, "invalid"


class Unprocessable(ServiceError):
    status, code = 422, "invalid"


class Unauthorized(ServiceError):
    status, code = 401, "unauthorized"


class Forbidden(ServiceError):
    status, code = 403, "forbidden"


class NotFound(ServiceError):
    status, code = 404, "not_found"


class Conflict(ServiceError):
    status, code = 409, "conflict"


class DigestMismatch(ServiceError):
    status, code = 400, "digest_mismatch"


class MissingBlobs(ServiceError):
    status, code = 400, "missing_blobs"


class RangeNotSatisfiable(ServiceError):
    status, code = 416, "range_not_satisfiable"


class TooLarge(ServiceError):
    status, code = 413, "too_large"


class TooManyRequests(ServiceError):
    """429 with ``Retry-After``: a rate limit or a per-day quota ran out."""

    status, code = 429, "rate_limited"

    def __init__(self, message: str, retry_after: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


class QuotaExceeded(ServiceError):
    status, code = 413, "quota_exceeded"

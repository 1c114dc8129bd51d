"""Domain errors raised by services. Each class carries its native HTTP status and API code
and, for the Hugging Face-compatible view, the ``X-Error-Code`` that ``huggingface_hub``
turns into its own exception (and the status, where the HF protocol answers differently).
One handler per protocol renders them (``app`` for the native JSON, ``routes.hf_common``
for the HF shape); routes stay thin and never translate."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "invalid"
    hf_code = "BadRequest"
    hf_status: int | None = None  # None: the same as ``status``

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}


class Invalid(ServiceError):
    status, code = 400, "invalid"


class Unprocessable(ServiceError):
    status, code = 422, "invalid"
    hf_status = 400  # the HF Hub answers a refused file or path with 400


class Unauthorized(ServiceError):
    status, code, hf_code = 401, "unauthorized", "Unauthorized"


class Forbidden(ServiceError):
    status, code, hf_code = 403, "forbidden", "Forbidden"


class NotFound(ServiceError):
    status, code, hf_code = 404, "not_found", "NotFound"


class RepoNotFound(NotFound):
    """No such repository, or a private one the caller may not see."""

    hf_code = "RepoNotFound"


class RevisionNotFound(NotFound):
    """No version (or commit, ``main``, range) of a visible repository matches."""

    hf_code = "RevisionNotFound"


class EntryNotFound(NotFound):
    """A file or blob that the resolved version does not hold."""

    hf_code = "EntryNotFound"


class Conflict(ServiceError):
    status, code, hf_code = 409, "conflict", "Conflict"


class DigestMismatch(ServiceError):
    status, code = 400, "digest_mismatch"


class MissingBlobs(ServiceError):
    status, code = 400, "missing_blobs"


class RangeNotSatisfiable(ServiceError):
    status, code, hf_code = 416, "range_not_satisfiable", "RangeNotSatisfiable"


class TooLarge(ServiceError):
    status, code, hf_code = 413, "too_large", "TooLarge"


class TooManyRequests(ServiceError):
    """429 with ``Retry-After``: a rate limit or a per-day quota ran out."""

    status, code, hf_code = 429, "rate_limited", "TooManyRequests"

    def __init__(self, message: str, retry_after: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))


class QuotaExceeded(ServiceError):
    status, code, hf_code = 413, "quota_exceeded", "TooLarge"


class BodyTooSlow(ServiceError):
    """408: the request body arrived slower than the minimum body rate (``HUB_MIN_BODY_RATE``)."""

    status, code, hf_code = 408, "body_too_slow", "RequestTimeout"


class Unavailable(ServiceError):
    """503 with ``Retry-After``: the hub is busy with this kind of work (sign-ins, large commits)
    or a query ran past its time limit; trying again later may succeed."""

    status, code, hf_code = 503, "unavailable", "ServiceUnavailable"

    def __init__(self, message: str, retry_after: int = 5, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.headers["Retry-After"] = str(max(1, int(retry_after)))

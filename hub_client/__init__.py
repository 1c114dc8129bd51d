"""Adapter Hub client: push, pull and find adapters on a hub server, from Python or the ``hub`` CLI.

Only ``HubClient``, its result type and the exception tree are public; modules starting with an
underscore, and the helpers behind ``HubClient``, may change.
"""

from .client import HubClient
from .errors import (
    BadReference,
    BadServerAnswer,
    BadSignature,
    Conflict,
    DigestMismatch,
    Forbidden,
    HubError,
    HubWarning,
    InvalidRequest,
    NotFound,
    OfflineMiss,
    RateLimited,
    RefusedFile,
    TransportError,
    Unauthorized,
)
from .upload import PushResult

__all__ = [
    "BadReference",
    "BadServerAnswer",
    "BadSignature",
    "Conflict",
    "DigestMismatch",
    "Forbidden",
    "HubClient",
    "HubError",
    "HubWarning",
    "InvalidRequest",
    "NotFound",
    "OfflineMiss",
    "PushResult",
    "RateLimited",
    "RefusedFile",
    "TransportError",
    "Unauthorized",
]

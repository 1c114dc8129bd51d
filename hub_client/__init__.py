"""Adapter Hub client: push, pull and find adapters on a hub server, from Python or the ``hub`` CLI.

Only ``HubClient``, its result type, the exception tree and the offline check of the hub's verified results
(``check_token``, ``check_evaluations``) are public; modules starting with an
underscore, and the helpers behind ``HubClient``, may change.

``HubClient`` and ``PushResult`` are imported on first use (PEP 562), so importing the package, or the
``hub`` CLI that lives in it, does not pull in httpx and the whole client: ``hub --version`` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

__version__ = "0.1.0"  # the distribution's version (pyproject.toml); a test checks they agree

if TYPE_CHECKING:
    from .client import HubClient
    from .eval_tokens import check_evaluations, check_token
    from .upload import PushResult

_LAZY = {
    "HubClient": ".client",
    "PushResult": ".upload",
    "check_evaluations": ".eval_tokens",
    "check_token": ".eval_tokens",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "__version__",
    "check_evaluations",
    "check_token",
]

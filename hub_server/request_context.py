"""The id of the request being served, visible to every service called for it (audit rows
carry it; the access log and the ``X-Request-Id`` header show it), and the hub's public address as
that request saw it (the URLs inside webhook payloads, written by services that have no request)."""

from __future__ import annotations

from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("hub_request_id", default=None)
_public_base: ContextVar[str | None] = ContextVar("hub_public_base", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None):
    """Returns the token for ``reset_request_id``."""
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def current_public_base() -> str | None:
    """``scheme://host[:port]`` of the hub for the request being served (None outside a request)."""
    return _public_base.get()


def set_public_base(value: str | None):
    """Returns the token for ``reset_public_base``."""
    return _public_base.set(value)


def reset_public_base(token) -> None:
    _public_base.reset(token)

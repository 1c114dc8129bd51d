"""Limits against strangers, in one place: body size before parsing, JSON depth, request
rates, upload caps and namespace storage quotas. Every number comes from ``Settings``
(env ``HUB_*``); counters are shared through Redis when ``HUB_REDIS_URL`` is set."""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings
from .client_gone import ClientGoneMiddleware
from .depth import json_depth_exceeds
from .middleware import LimitsMiddleware
from .quotas import check_namespace_quota, check_open_uploads, namespace_usage, set_namespace_quota
from .rates import RateLimits
from .signin import PasswordChecks

__all__ = [
    "ClientGoneMiddleware",
    "LimitsMiddleware",
    "PasswordChecks",
    "RateLimits",
    "check_namespace_quota",
    "check_open_uploads",
    "install_limits",
    "json_depth_exceeds",
    "namespace_usage",
    "set_namespace_quota",
]


def install_limits(app: FastAPI, settings: Settings) -> RateLimits:
    """Add the middleware (outermost, so nothing runs before it) and return the buckets. Inside it,
    the watcher that stops a request's queries when its client leaves."""
    rates = RateLimits(settings)
    app.state.limits = rates
    app.add_middleware(ClientGoneMiddleware)
    app.add_middleware(LimitsMiddleware, settings=settings, rates=rates)
    return rates

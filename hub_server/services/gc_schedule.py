"""Garbage collection by itself: every host runs ``collect_garbage`` every
``HUB_GC_INTERVAL_SECONDS`` (with a little jitter, so hosts started together spread out), removing
blobs no version references once idle past ``HUB_GC_GRACE_SECONDS`` and expired upload sessions.
gc is safe to run on every host at once (see ``services.gc``); a failed run is logged and retried
at the next tick, never taking the hub down."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import anyio
from starlette.concurrency import run_in_threadpool

from .context import Hub
from .gc import collect_garbage

log = logging.getLogger(__name__)


async def run_gc_forever(hub: Hub) -> None:
    """Run until cancelled (the app's lifespan ends); a zero interval turns the schedule off."""
    interval = hub.settings.gc_interval_seconds
    if interval <= 0:
        return
    grace = timedelta(seconds=max(0.0, hub.settings.gc_grace_seconds))
    while True:
        await anyio.sleep(interval * random.uniform(0.9, 1.1))
        try:
            report = await run_in_threadpool(collect_garbage, hub, grace, actor="scheduler")
            if report.removed_blobs or report.upload_sessions_removed:
                log.info(
                    "scheduled gc removed %d blobs (%d bytes) and %d upload sessions",
                    report.removed_blobs,
                    report.freed_bytes,
                    report.upload_sessions_removed,
                )
        except Exception:
            log.exception("scheduled gc failed")

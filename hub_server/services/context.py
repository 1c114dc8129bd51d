"""What every service needs: the database, the blob store, the settings and the download
counter, built once per app by ``create_app`` (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..db import Database
from ..settings import Settings
from ..storage import BlobStore
from .download_counts import DownloadCounter


@dataclass
class Hub:
    db: Database
    store: BlobStore
    settings: Settings
    downloads: DownloadCounter = field(default=None)  # type: ignore[assignment]
    queue: Any = None  # hub_server.services.eval_queue.JobQueue, made with the hub (connects on first send)

    def __post_init__(self) -> None:
        if self.downloads is None:
            self.downloads = DownloadCounter(self.db, self.settings.download_flush_seconds)
        if self.queue is None:
            from .eval_queue import JobQueue

            self.queue = JobQueue(self.settings)

    limits: Any = None  # hub_server.limits.RateLimits, set by create_app
    password_checks: Any = None  # hub_server.limits.PasswordChecks, set by create_app
    commit_budget: Any = None  # hub_server.services.ndjson_commit.ByteBudget, made on first HF commit
    body_slots: Any = None  # hub_server.limits.slow_bodies.BodySlots, made on first upload
    last_cleanup: float = 0.0  # monotonic time of this process's last sweep of stale uploads

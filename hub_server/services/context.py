"""What every service needs: the database, the blob store and the settings, built once
per app by ``create_app`` (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from ..db import Database
from ..settings import Settings
from ..storage import BlobStore


@dataclass
class Hub:
    db: Database
    store: BlobStore
    settings: Settings
    last_cleanup: float = 0.0  # monotonic time of this process's last sweep of stale uploads

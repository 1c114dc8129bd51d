"""What every service needs: the database, the blob store and the settings, built once
per app by ``create_app`` (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db import Database
from ..settings import Settings
from ..storage import BlobStore


@dataclass
class Hub:
    db: Database
    store: BlobStore
    settings: Settings
    limits: Any = None  # hub_server.limits.RateLimits, set by create_app

"""Administration without a running server: create a user's token straight in the
database of a data dir (used by ``hub admin create-token`` and the test fixtures)."""

from __future__ import annotations

from collections.abc import Iterable

from .db import Database, upgrade
from .services.auth import create_token
from .settings import Settings


def create_user_token(settings: Settings, user: str, scope: str = "write", orgs: Iterable[str] = ()) -> str:
    if settings.uses_data_dir():
        settings.data.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url())
    try:
        upgrade(db)
        return create_token(db, user, scope, tuple(orgs))
    finally:
        db.dispose()

"""Bring the schema to the newest Alembic revision at startup. A file lock in the data
dir (and an advisory lock on PostgreSQL) keeps several workers from migrating at once."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from .engine import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK_KEY = 7_340_811


def upgrade(db: Database, lock_dir: Path) -> None:
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / ".migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with db.engine.connect() as conn:
                if not db.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
                try:
                    config = Config()
                    config.set_main_option("script_location", str(MIGRATIONS))
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
                    conn.commit()
                finally:
                    if not db.is_sqlite:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                        conn.commit()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

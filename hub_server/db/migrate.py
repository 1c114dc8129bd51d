"""Bring the schema to the newest Alembic revision at startup, once however many hosts and
workers start together: PostgreSQL serialises them with an advisory lock held on the
migrating connection (so no host needs a shared disk); SQLite, a local file by nature, with a
file lock next to the database file."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from .engine import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK_KEY = 7_340_811


def upgrade(db: Database) -> None:
    with db.engine.connect() as conn, _migration_lock(db, conn):
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()


@contextmanager
def _migration_lock(db: Database, conn: Connection) -> Iterator[None]:
    if db.is_sqlite:
        with _file_lock(_sqlite_lock_path(db)):
            yield
        return
    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
    conn.commit()
    try:
        yield
    finally:
        conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
        conn.commit()


def _sqlite_lock_path(db: Database) -> Path | None:
    database = db.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate.lock")


@contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    if path is None:  # an in-memory database belongs to one process: nothing to coordinate
        yield
        return
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

"""Upgrading to the accountability schema: existing blobs get a last-use time (so gc's grace
applies to them), repo identities are lower-cased, and names that differ only in case stop
the upgrade with a message naming them (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from hub_server.db.engine import Database
from hub_server.db.migrate import MIGRATIONS


def _upgrade(db: Database, revision: str) -> None:
    with db.engine.connect() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


def _database(database_url, tmp_path: Path) -> Database:
    from hub_server.settings import Settings

    return Database(Settings(data=tmp_path, database_url=database_url).resolved_database_url())


def test_upgrade_keeps_blobs_and_indexes_names(database_url, tmp_path):
    db = _database(database_url, tmp_path)
    try:
        _upgrade(db, "0002")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO blobs (digest, size, created_at) VALUES ('sha256:"
                    + "a" * 64
                    + "', 3, '2020-01-01 00:00:00')"
                )
            )
            conn.execute(text("INSERT INTO users (name, created_at) VALUES ('Alice', CURRENT_TIMESTAMP)"))
        _upgrade(db, "head")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM blobs WHERE last_used_at = created_at")).scalar() == 1
        with pytest.raises(Exception, match="uq_users_name_ci|UNIQUE|unique"), db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (name, created_at) VALUES ('alice', CURRENT_TIMESTAMP)"))
    finally:
        db.dispose()


def test_upgrade_refuses_names_that_differ_only_in_case(database_url, tmp_path):
    db = _database(database_url, tmp_path)
    try:
        _upgrade(db, "0002")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO orgs (name) VALUES ('Lab')"))
            conn.execute(text("INSERT INTO orgs (name) VALUES ('lab')"))
        with pytest.raises(RuntimeError, match="orgs: names differing only in case exist \\('lab'\\); rename one"):
            _upgrade(db, "head")
    finally:
        db.dispose()

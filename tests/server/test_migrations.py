"""Upgrading a database made by an older release: the free-text terms are filled from the repos
already there, so search finds them without republishing (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from hub_server.db.engine import Database
from hub_server.db.migrate import MIGRATIONS
from hub_server.services.search import search
from hub_server.settings import Settings


def _config(conn) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def test_upgrade_from_0001_indexes_existing_repos(database_url, tmp_path: Path):
    from hub_server.app import build_hub

    settings = Settings(data=tmp_path, database_url=database_url)
    db = Database(settings.resolved_database_url())
    with db.engine.connect() as conn:
        command.upgrade(_config(conn), "0001")
        conn.execute(
            text(
                "INSERT INTO repos (id, namespace, name, full_name, kind, private, downloads, created_at, updated_at,"
                " search_text, metadata_json) VALUES (7, 'old', 'pirate-talk', 'old/pirate-talk', 'adapter', false, 0,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'old/pirate-talk say arr lora', '{}')"
            )
        )
        conn.commit()
    db.dispose()
    hub = build_hub(settings)  # migrates to the newest revision, as `hub serve` does
    try:
        assert [r["id"] for r in search(hub, None, q="arr")["items"]] == ["old/pirate-talk"]
        assert [r["id"] for r in search(hub, None, q="pirate lo")["items"]] == ["old/pirate-talk"]
    finally:
        hub.db.dispose()

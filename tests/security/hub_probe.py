"""Helpers of the limits suite: start a real hub (uvicorn on loopback port 0, or the two-host
deployment) with given settings, and probe what it stored to prove nothing was (blobs in its
store, blob rows, repos, versions, upload sessions) — through its database URL and blob store,
so the same probe reads SQLite + files and PostgreSQL + S3."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support.deployment import TwoHosts, start_hub
from tests.support.hub_process import HubProcess

SMALL_LIMITS = {
    "HUB_MAX_BODY_BYTES": "4096",
    "HUB_MAX_FILE_BYTES": "65536",
    "HUB_HF_MAX_COMMIT_BYTES": "65536",
    "HUB_MAX_JSON_DEPTH": "8",
}


class Stored:
    """What a hub holds, read straight from its database and blob store (a bare data dir: its
    SQLite file and blob files)."""

    def __init__(self, hub: HubProcess | TwoHosts | Path) -> None:
        self.hub = None if isinstance(hub, Path) else hub
        self.data_dir = Path(hub) if isinstance(hub, Path) else hub.data_dir
        url = self.hub.database_url if self.hub is not None else None
        self.url = url or f"sqlite:///{self.data_dir / 'hub.sqlite3'}"

    def _count(self, sql: str, *args) -> int:
        params = {f"p{i}": a for i, a in enumerate(args)}
        for i in range(len(args)):
            sql = sql.replace("?", f":p{i}", 1)
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar_one()
        finally:
            engine.dispose()

    def blob_files(self) -> int:
        if isinstance(self.hub, TwoHosts):
            return len(self.hub.stored_digests())
        root = self.data_dir / "blobs" / "sha256"
        return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0

    def blob_rows(self) -> int:
        return self._count("SELECT count(*) FROM blobs")

    def repos(self, namespace: str) -> int:
        return self._count("SELECT count(*) FROM repos WHERE namespace = ?", namespace)

    def versions(self, namespace: str) -> int:
        return self._count(
            "SELECT count(*) FROM versions JOIN repos ON repos.id = versions.repo_id WHERE repos.namespace = ?",
            namespace,
        )

    def upload_sessions(self, user: str | None = None) -> int:
        if user is None:
            return self._count("SELECT count(*) FROM upload_sessions")
        return self._count("SELECT count(*) FROM upload_sessions WHERE user_name = ?", user)

    def nothing(self, namespace: str) -> bool:
        return self.blob_files() == 0 and self.blob_rows() == 0 and self.versions(namespace) == 0


def start(tmp_path_factory, request=None, **env: str) -> HubProcess | TwoHosts:
    """A hub with ``env``: of the selected deployment when ``request`` (the fixture request) is given."""
    if request is None:
        return HubProcess(tmp_path_factory.mktemp("hub-data"), env=env).start()
    return start_hub(tmp_path_factory.mktemp("hub-data"), request, env=env)

"""Helpers of the limits suite: start a real hub (uvicorn on loopback port 0) with given
settings, and probe its data dir to prove nothing was stored (blob files, blob rows,
repos, versions, upload sessions)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.hub_process import HubProcess

SMALL_LIMITS = {
    "HUB_MAX_BODY_BYTES": "4096",
    "HUB_MAX_FILE_BYTES": "65536",
    "HUB_HF_MAX_COMMIT_BYTES": "65536",
    "HUB_MAX_JSON_DEPTH": "8",
}


class Stored:
    """What a server's data dir holds, read straight from disk and the SQLite file."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def _count(self, sql: str, *args) -> int:
        with sqlite3.connect(self.data_dir / "hub.sqlite3") as conn:
            return conn.execute(sql, args).fetchone()[0]

    def blob_files(self) -> int:
        root = self.data_dir / "blobs" / "sha256"
        return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0

    def blob_rows(self) -> int:
        return self._count("SELECT count(*) FROM blobs")

    def repos(self, namespace: str) -> int:
        return self._count("SELECT count(*) FROM repos WHERE namespace = ?", namespace)

    def versions(self, namespace: str) -> int:
        return self._count("SELECT count(*) FROM versions JOIN repos ON repos.id = versions.repo_id "
                           "WHERE repos.namespace = ?", namespace)

    def upload_sessions(self, user: str | None = None) -> int:
        if user is None:
            return self._count("SELECT count(*) FROM upload_sessions")
        return self._count("SELECT count(*) FROM upload_sessions WHERE user_name = ?", user)

    def nothing(self, namespace: str) -> bool:
        return self.blob_files() == 0 and self.blob_rows() == 0 and self.versions(namespace) == 0


def start(tmp_path_factory, **env: str) -> HubProcess:
    return HubProcess(tmp_path_factory.mktemp("hub-data"), env=env).start()

"""Download counts kept off the request path: a pull adds one to an in-process buffer (no
database write, so anonymous reads never wait for SQLite's write lock), and a background
thread folds the buffer into ``repos.downloads`` and ``versions.downloads`` in one write
transaction every few seconds and once more when the app shuts down."""

from __future__ import annotations

import logging
import threading
from collections import Counter

from sqlalchemy import bindparam, update

from ..db import Database
from ..db.models import Repo, Version

log = logging.getLogger("hub_server.downloads")


class DownloadCounter:
    def __init__(self, db: Database, interval: float = 10.0) -> None:
        self.db = db
        self.interval = interval
        self._pending: Counter[tuple[int, int]] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, repo_id: int, version_id: int) -> None:
        with self._lock:
            self._pending[(repo_id, version_id)] += 1
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="hub-download-flush", daemon=True)
                self._thread.start()

    def pending(self) -> int:
        with self._lock:
            return sum(self._pending.values())

    def flush(self) -> int:
        """Write what is buffered in one transaction; on failure the counts go back to the buffer."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
        if not batch:
            return 0
        per_repo: Counter[int] = Counter()
        for (repo_id, _), n in batch.items():
            per_repo[repo_id] += n
        try:
            with self.db.write() as s:
                conn = s.connection()
                conn.execute(
                    update(Repo).where(Repo.id == bindparam("rid")).values(downloads=Repo.downloads + bindparam("n")),
                    [{"rid": r, "n": n} for r, n in per_repo.items()],
                )
                conn.execute(
                    update(Version)
                    .where(Version.id == bindparam("vid"))
                    .values(downloads=Version.downloads + bindparam("n")),
                    [{"vid": v, "n": n} for (_, v), n in batch.items()],
                )
        except Exception:
            with self._lock:
                self._pending.update(batch)
            raise
        return sum(batch.values())

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:
                log.exception("flushing download counts failed; will retry")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.flush()
        except Exception:
            log.exception("final flush of download counts failed")

"""A search whose client leaves stops its database work: PostgreSQL gets a cancel for the running
statement (hundreds of tag filters used to keep a backend busy for minutes after the client had
gone), SQLite an interrupt. The server answers others at once, and says once in its log what it
stopped. The time bound is turned off here, so only the departure can stop the query."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import httpx
import psycopg

from tests.security import accountability_support

hub_on = accountability_support.hub_on  # the fixture: one hub per database kind

SQLITE_REPOS, SQLITE_TAGS = 2000, 300  # every repo has every tag but the last filter's: each row is checked in full


@contextmanager
def _asked(url: str, path: str) -> Iterator[None]:
    """One GET sent and its answer never read: the client hangs up when the block ends."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {where.netloc}\r\n\r\n".encode())
        yield


def _seed_sqlite(hub) -> None:
    """Many repos with many tags, written straight into the hub's database (publishing 3,000
    repos over HTTP would take minutes): the filter query then has real rows to walk."""
    with sqlite3.connect(hub.data_dir / "hub.sqlite3") as db:
        db.execute("PRAGMA cache_size = -262144")  # 256 MiB: the tag index is written in one pass
        db.execute(f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SQLITE_REPOS})
            INSERT INTO repos (id, namespace, name, full_name, kind, private, downloads, likes, search_text,
                               metadata_json, created_at, updated_at)
            SELECT i, 'crowd', 'r' || i, 'crowd/r' || i, 'adapter', 0, i, 0, '', '{{}}', '2026-01-01', '2026-01-01'
            FROM n""")
        db.execute(f"""WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {SQLITE_TAGS - 1})
            INSERT INTO repo_tags (repo_id, tag) SELECT repos.id, 't' || j FROM repos, k""")


def _active_filter_queries(database_url: str) -> int:
    name = database_url.rsplit("/", 1)[1]
    admin = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' "
            "AND query LIKE '%%repo_tags%%' AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()[0]


def _wait_for(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_a_search_whose_client_leaves_is_stopped(hub_on, tmp_path):
    access_log = tmp_path / "access.log"
    hub = hub_on(
        env={
            "HUB_SEARCH_MAX_FILTERS": "5000",
            "HUB_QUERY_TIMEOUT_SECONDS": "0",
            "HUB_ACCESS_LOG": str(access_log),
            "HUB_RATE_LIMITS": "false",
        }
    )
    if hub.database_url is None:
        _seed_sqlite(hub)
        filters = [f"t{j}" for j in range(SQLITE_TAGS)] + ["absent"]
    else:
        filters = [f"t{j}" for j in range(400)]  # PostgreSQL plans 300 of them for more than 40 s
    path = "/api/models?" + urlencode({"filter": filters}, doseq=True)

    def searches() -> list[dict]:
        lines = [json.loads(line) for line in access_log.read_text().splitlines()] if access_log.exists() else []
        return [line for line in lines if line["path"] == "/api/models"]

    with _asked(hub.url, path):
        if hub.database_url is None:
            time.sleep(1)
            assert searches() == []  # the walk over 600,000 tag rows is still under way
        else:  # the query runs while its client waits ...
            assert _wait_for(lambda: _active_filter_queries(hub.database_url) == 1)
            time.sleep(1)
            assert _active_filter_queries(hub.database_url) == 1
    if hub.database_url is not None:  # ... and is gone soon after it hangs up (it used to run for minutes)
        assert _wait_for(lambda: _active_filter_queries(hub.database_url) == 0, 5)

    assert _wait_for(searches)
    assert [line["status"] for line in searches()] == [503]  # the handler ended with the stop, not an answer
    assert "client left GET /api/models before the answer; its query was stopped" in hub.log_tail()
    assert "Traceback" not in hub.log_tail()
    with httpx.Client(base_url=hub.url, timeout=30) as c:  # the server answers at once
        assert c.get("/healthz").status_code == 200
        assert c.get("/api/models", params={"filter": filters[:3]}).status_code == 200

"""One place that opens the database: SQLite gets WAL, a busy timeout and ``BEGIN
IMMEDIATE`` for writes (so concurrent writers queue instead of failing mid-transaction);
PostgreSQL is used as is. Services ask for ``read()`` or ``write()`` sessions.

Every statement of a read session has bounded work: past ``query_timeout`` seconds PostgreSQL
cancels it (``SET LOCAL statement_timeout``) and SQLite interrupts it (a progress handler), and the
caller gets a one-line 503 instead of a query that runs on after its client has given up. A read
session of an HTTP request also registers its connection with the request (``request_queries``),
so a client that leaves stops the statement at once rather than at the time bound."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import Invalid, Unavailable
from .request_queries import current_queries

_IMMEDIATE = "hub_immediate"
_READ = "hub_read"
_LEFT = "the client left; its query was stopped"
_PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two looks at the clock


class Database:
    def __init__(self, url: str, query_timeout: float = 0.0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.query_timeout = query_timeout
        if self.is_sqlite:
            self.engine: Engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
            _configure_sqlite(self.engine, query_timeout)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
            _configure_postgresql(self.engine, query_timeout)
        self._writer = self.engine.execution_options(**{_IMMEDIATE: True})
        self._reader = self.engine.execution_options(**{_READ: True})
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session whose statements are cancelled past ``query_timeout`` or when the request's
        client leaves (503, one line)."""
        queries = current_queries.get()
        if queries is not None and queries.gone:
            raise Unavailable(_LEFT)
        try:
            with self._read_sessions() as session:
                if queries is None:
                    yield session
                else:
                    with queries.holding(session.connection().connection.dbapi_connection):
                        yield session
        except DataError as exc:
            _refuse_nul(exc)
            raise
        except OperationalError as exc:
            if not _cancelled(exc):
                raise
            if queries is not None and queries.gone:
                raise Unavailable(_LEFT) from None
            raise Unavailable(
                f"the query took longer than {self.query_timeout:g} s and was stopped; "
                "narrow it (fewer words or filters)"
            ) from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success; on SQLite it holds the write lock from the start."""
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except DataError as exc:
            _refuse_nul(exc)
            raise

    def after_commit(self, hook: Callable[[Session], None]) -> None:
        """Call ``hook(session)`` once each write transaction has committed: work that must not happen
        unless the change is stored (queueing the webhook deliveries it recorded in ``session.info``)."""
        event.listen(self._write_sessions, "after_commit", hook)

    def dispose(self) -> None:
        self.engine.dispose()


def _refuse_nul(exc: DataError) -> None:
    """PostgreSQL refuses NUL in text; whatever route let one through answers 400, not 500."""
    if "NUL (0x00)" in str(exc.orig):
        raise Invalid("NUL characters are not allowed in names, tags or text") from None


def _cancelled(exc: OperationalError) -> bool:
    """A statement stopped by the time bound (PostgreSQL's query_canceled, SQLite's interrupt)."""
    return getattr(exc.orig, "sqlstate", None) == "57014" or str(exc.orig) == "interrupted"


def _configure_postgresql(engine: Engine, query_timeout: float) -> None:
    if query_timeout <= 0:
        return

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        if conn.get_execution_options().get(_READ):
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(query_timeout * 1000))}")


def _configure_sqlite(engine: Engine, query_timeout: float = 0.0) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:
        if query_timeout > 0:
            deadline = record.info["hub_deadline"] = [None]
            dbapi_connection.set_progress_handler(
                lambda: 1 if deadline[0] is not None and time.monotonic() > deadline[0] else 0, _PROGRESS_STEPS
            )
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    if query_timeout > 0:

        @event.listens_for(engine, "before_cursor_execute")
        def _arm(conn, _cursor, _statement, _parameters, _context, _many) -> None:
            deadline = conn.connection.info.get("hub_deadline")
            if deadline is not None:
                read = conn.get_execution_options().get(_READ)
                deadline[0] = time.monotonic() + query_timeout if read else None

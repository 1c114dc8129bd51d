"""The database work of one HTTP request, so it can be stopped when the client leaves.

A read session registers its connection here for as long as it holds it; the request's
disconnect watcher (``limits/client_gone.py``) calls ``stop()`` from the event loop. PostgreSQL
gets a cancel request for the running statement (the backend stops it and stays usable; a cancel
that reaches an idle backend is ignored), SQLite gets ``interrupt()`` (thread-safe; a no-op when
no statement runs). Later reads of the same request are refused at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


class RequestQueries:
    """The connections a request's read sessions hold now, and whether its client has left."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list[Any] = []
        self.gone = False
        self.stopped = 0  # statements a stop reached (connections held at the time)

    @contextmanager
    def holding(self, dbapi_connection: Any) -> Iterator[None]:
        with self._lock:
            self._held.append(dbapi_connection)
        try:
            yield
        finally:
            with self._lock:
                self._held.remove(dbapi_connection)

    def stop(self) -> int:
        """Mark the request abandoned and stop every statement it is running; how many were held.
        Blocking (a PostgreSQL cancel opens a short connection): call it off the event loop."""
        with self._lock:
            self.gone = True
            for connection in self._held:
                _interrupt(connection)
            self.stopped += len(self._held)
            return len(self._held)


def _interrupt(connection: Any) -> None:
    if hasattr(connection, "interrupt"):  # sqlite3
        connection.interrupt()
    elif hasattr(connection, "cancel_safe"):  # psycopg >= 3.2: bounded wait for the server
        connection.cancel_safe(timeout=5)
    else:
        connection.cancel()


current_queries: ContextVar[RequestQueries | None] = ContextVar("hub_request_queries", default=None)

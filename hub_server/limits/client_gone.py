"""Stop a request's database work when its client leaves before the answer starts.

A search a client has given up on would otherwise run on until its time bound (minutes, before
there was one), holding a worker thread and a database backend. Once the request body has been
read, a watcher waits for the ASGI ``http.disconnect``; if it comes before the response has
started, the request's running statements are cancelled (``db/request_queries.py``), its later
reads are refused, and one log line says so. The app still gets the disconnect from ``receive``
as before; the body itself is never read ahead of the app."""

from __future__ import annotations

import asyncio
import logging

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.request_queries import RequestQueries, current_queries

log = logging.getLogger(__name__)
_CANCELS = anyio.CapacityLimiter(8)  # cancels never wait behind a thread pool full of slow requests


class ClientGoneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        queries = RequestQueries()
        started = False
        disconnect: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        watcher: asyncio.Task | None = None

        async def watch() -> None:
            message = await receive()
            gone = message["type"] == "http.disconnect" and not started
            if gone and await anyio.to_thread.run_sync(queries.stop, limiter=_CANCELS):
                log.warning(
                    "client left %s %s before the answer; its query was stopped", scope["method"], scope["path"]
                )
            if not disconnect.done():
                disconnect.set_result(message)

        def start_watching() -> None:
            nonlocal watcher
            if watcher is None:
                watcher = asyncio.create_task(watch())

        first: Message | None = None
        if _bodiless(scope):  # nothing to read: take the empty body now and watch from the start
            first = await receive()
            start_watching()

        async def watched_receive() -> Message:
            nonlocal first
            if first is not None:
                message, first = first, None
                return message
            if watcher is not None:
                return await asyncio.shield(disconnect)
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                start_watching()
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        token = current_queries.set(queries)
        try:
            await self.app(scope, watched_receive, watched_send)
        finally:
            current_queries.reset(token)
            if watcher is not None and not watcher.done():
                watcher.cancel()


def _bodiless(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or ())
    return b"transfer-encoding" not in headers and headers.get(b"content-length", b"0") in (b"0", b"")

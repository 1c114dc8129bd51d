"""A per-request round-robin HTTP proxy for the test harness: request N goes to backend
N mod k, so consecutive requests of one push land on different hosts. Like a load balancer
with ``proxy_next_upstream error``, a backend that refuses the connection is skipped; a
backend that dies mid-request yields a 502 (or a cut response), which the client must survive.
The client's ``Host`` header is passed through (as HAProxy and cloud load balancers do), so the
hosts build absolute URLs (pagination links) that point back at the proxy.

Run: ``RR_BACKENDS=http://a,http://b uvicorn --factory tests.support.rr_proxy:create_app``.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import httpx

_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}


def _end_with(parent: int) -> None:
    """Stop this proxy (SIGTERM to itself) once the test process that started it is gone: a proxy whose
    test never reached ``close`` must not outlive the run (one was found still running after a two-host
    pass). An orphan's parent becomes another process, so the check is a parent id that changed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="rr-proxy-parent-watch", daemon=True).start()


def create_app(backends: list[str] | None = None):
    backends = backends or [b for b in os.environ["RR_BACKENDS"].split(",") if b]
    if os.environ.get("RR_PARENT_PID"):
        _end_with(int(os.environ["RR_PARENT_PID"]))
    turn = itertools.count()
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(300.0, connect=5.0),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
    )

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        consumed = False

        async def body():
            nonlocal consumed
            while True:
                message = await receive()
                consumed = True
                if message.get("body"):
                    yield message["body"]
                if not message.get("more_body"):
                    return

        headers = [(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in _HOP - {"host"}]
        path = scope["raw_path"].decode("latin-1") + (
            ("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else ""
        )
        first = next(turn)
        response = None
        for attempt in range(len(backends)):
            backend = backends[(first + attempt) % len(backends)]
            request = client.build_request(scope["method"], backend + path, headers=headers, content=body())
            try:
                response = await client.send(request, stream=True)
                break
            except httpx.ConnectError:
                if consumed:
                    break
            except httpx.HTTPError:
                break
        if response is None:
            await send(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
                }
            )
            await send({"type": "http.response.body", "body": b"{}"})
            return
        try:
            out = [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _HOP]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    return app

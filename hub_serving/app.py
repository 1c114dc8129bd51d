"""The model server's FastAPI app: one frozen base, the OpenAI and LoRAX/TGI views over one engine,
``/health`` and ``/metrics``.

Why an app of its own: the hub stays torch-free; this process holds the ML extras and only talks to the
hub as a client (pulling adapters, checking tokens). Every refusal renders in the caller's protocol:
OpenAI's ``{"error": {"message", "type", "param", "code"}}`` under ``/v1``, TGI's ``{"error", "error_type"}``
elsewhere; an unexpected failure is a one-line 500 and is logged.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from .errors import ServeError
from .settings import ServeSettings

log = logging.getLogger("hub_serving")


def _render(
    request: Request, status: int, message: str, type_: str, code: str | None = None, param: str | None = None
) -> JSONResponse:
    message = " ".join(message.split())
    if request.url.path.startswith("/v1"):
        body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    else:
        kind = "validation" if status in (400, 404, 422) else "overloaded" if status == 429 else "generation"
        body = {"error": message, "error_type": kind}
    request.app.state.server.metrics.requests.labels(request.url.path, str(status)).inc()
    return JSONResponse(body, status_code=status)


def create_app(settings: ServeSettings) -> FastAPI:
    """Load the base (and check its pin) now; the engine thread starts with the app."""
    from .model_server import ModelServer

    server = ModelServer(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        server.start()
        try:
            yield
        finally:
            server.stop()

    app = FastAPI(title="Adapter Hub model server", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.server = server

    @app.exception_handler(ServeError)
    async def serve_error(request: Request, exc: ServeError):
        return _render(request, exc.status, exc.message, exc.type, exc.code, exc.param)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        err = (exc.errors() or [{}])[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        return _render(request, 400, f"{where}: {err.get('msg', 'invalid')}", "invalid_request_error")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected failure on %s", request.url.path)
        return _render(request, 500, f"internal error ({type(exc).__name__})", "server_error")

    @app.middleware("http")
    async def count(request: Request, call_next):
        response = await call_next(request)
        if response.status_code < 400:
            server.metrics.requests.labels(request.url.path, str(response.status_code)).inc()
        return response

    @app.get("/health")
    async def health() -> dict:
        return {
            "status": "ok",
            "base": server.base_id,
            "fingerprint": server.pin.fingerprint,
            "adapters": server.cache.loaded(),
            "running": len(server.engine.running),
            "waiting": server.engine.waiting,
        }

    @app.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        server.metrics.adapters_loaded.set(len(server.cache.loaded()))
        server.metrics.running.set(len(server.engine.running))
        server.metrics.waiting.set(server.engine.waiting)
        return Response(generate_latest(server.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    from .openai_views import router as openai_router
    from .tgi_views import router as tgi_router

    app.include_router(openai_router)
    app.include_router(tgi_router)
    return app

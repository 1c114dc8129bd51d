"""The application factory: builds the database, blob store and routers from ``Settings``
and installs the native error handler that renders ``{"error": {"code", "message"}}`` (the
HF-compatible view renders the same errors its own way, see ``routes.hf_common.HfRoute``).
Extra routers are included through ``routers=``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from .access_log import RequestLogMiddleware, configure_access_log
from .api_docs import install_docs
from .db import Database, upgrade
from .errors import ServiceError
from .limits import PasswordChecks, install_limits
from .routes import admin, evaluations, keys, quotas, repos, search, tokens, uploads, versions, webhook_deliveries
from .services.auth import token_is_valid
from .services.context import Hub
from .services.evaluations import run_sweeps_forever
from .services.gc_schedule import run_gc_forever
from .services.uploads import cleanup_stale
from .services.webhook_deliveries import install as install_deliveries
from .services.webhook_deliveries import run_deliveries_forever
from .settings import Settings
from .storage import open_store

_HTTP_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "invalid",
    409: "conflict",
    413: "too_large",
    416: "range_not_satisfiable",
    429: "rate_limited",
}


def error_body(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


def build_hub(settings: Settings) -> Hub:
    """Open (and migrate) the database and the blob store for ``settings``. The data dir is only
    created when something lives there (the default SQLite file or filesystem blobs)."""
    if settings.uses_data_dir():
        settings.data.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url(), settings.query_timeout_seconds)
    upgrade(db)
    hub = Hub(db=db, store=open_store(settings.storage_url, settings.data), settings=settings)
    install_deliveries(hub)  # webhook deliveries recorded by a transaction are queued once it commits
    return hub


def create_app(
    settings: Settings | None = None, *, routers: Iterable[APIRouter] = (), hf: bool = True, web: bool = True
) -> FastAPI:
    settings = settings or Settings()
    hub = build_hub(settings)
    cleanup_stale(hub)
    configure_access_log(settings.access_log, settings.access_log_format)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run_gc_forever, hub)  # HUB_GC_INTERVAL_SECONDS; 0 turns it off
            tasks.start_soon(run_sweeps_forever, hub)  # evaluation leases (HUB_EVAL_LEASE_SECONDS)
            tasks.start_soon(run_deliveries_forever, hub)  # webhook retries (HUB_WEBHOOK_BACKOFF_SECONDS)
            yield
            tasks.cancel_scope.cancel()
        hub.downloads.close()
        hub.queue.close()  # buffered download counts reach the database before exit

    app = FastAPI(title="Adapter Hub", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.hub = hub
    hub.limits = install_limits(app, settings)
    hub.password_checks = PasswordChecks(settings, hub.limits)
    hub.limits.valid_token = lambda token: run_in_threadpool(token_is_valid, hub.db, token)
    app.add_middleware(RequestLogMiddleware)  # outermost: refusals by the limits are logged with their request id
    for module in (repos, versions, uploads, search, tokens, admin, quotas, keys, evaluations, webhook_deliveries):
        app.include_router(module.router)
    for router in routers:
        app.include_router(router)
    install_docs(app)  # /docs and /redoc with their files served from here: they work without internet
    if hf:
        _install_hf(app, hub)
    if web:
        from .web import install_web

        install_web(app)  # last: its /{namespace}/{name} pages never shadow an API path
    _install_error_handlers(app)
    return app


def _install_hf(app: FastAPI, hub: Hub) -> None:
    from .routes.hf_router import install_hf

    install_hf(app, max_commit_bytes=hub.settings.hf_max_commit_bytes)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.extra), status_code=exc.status, headers=exc.headers or None
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(error_body("invalid", f"{where}: {first.get('msg', 'invalid request')}"), status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # a client that hangs up mid-body is routine, not a server error: one access-log line with
        # status 499 (nobody reads the response), no traceback; what it sent so far is discarded
        return Response(status_code=499)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body("internal", "internal server error"), status_code=500)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(_HTTP_CODES.get(exc.status_code, "invalid"), str(exc.detail)), status_code=exc.status_code
        )

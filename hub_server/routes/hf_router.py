"""Mount the Hugging Face-compatible API on an app, over a given ``HfBackend``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from ..services.hf_backend import HfBackend, HfBackendError
from . import hf_api, hf_files
from .hf_common import BACKEND_STATE_KEY, LIMIT_STATE_KEY, error_response

DEFAULT_MAX_COMMIT_BYTES = 2 * 1024**3


def hf_router() -> APIRouter:
    """All HF routes; the ``/api`` ones first so ``/{ns}/{name}/resolve`` never shadows them."""
    router = APIRouter()
    router.include_router(hf_api.router)
    router.include_router(hf_files.router)
    return router


def install_hf(app: FastAPI, backend: HfBackend, *, max_commit_bytes: int = DEFAULT_MAX_COMMIT_BYTES) -> None:
    """Include the HF routes and the backend they use (call from ``create_app``).

    ``max_commit_bytes`` bounds one NDJSON commit: its files travel inline (base64), so
    the body is held in memory; large files go through the native chunked upload.
    """
    setattr(app.state, BACKEND_STATE_KEY, backend)
    setattr(app.state, LIMIT_STATE_KEY, max_commit_bytes)
    app.include_router(hf_router())
    app.add_exception_handler(HfBackendError, lambda request, exc: error_response(exc))

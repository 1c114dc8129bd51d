"""Mount the Hugging Face-compatible view on an app: its routes over the native services."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from . import (
    hf_api,
    hf_collections,
    hf_discussions,
    hf_evals,
    hf_files,
    hf_gates,
    hf_lfs,
    hf_paths,
    hf_refs,
    hf_webhooks,
    hf_xet,
    xet_cas,
)
from .hf_common import LIMIT_STATE_KEY, HfRoute
from .hf_repo_ids import fallback_router

DEFAULT_MAX_COMMIT_BYTES = 2 * 1024**3


def hf_router() -> APIRouter:
    """All HF routes; the ``/api`` ones first so ``/{ns}/{name}/resolve`` never shadows them."""
    router = APIRouter()
    router.include_router(hf_evals.router)  # before hf_api: /api/datasets/{ns}/{name}/leaderboard
    router.include_router(hf_api.router)
    router.include_router(hf_paths.router)
    router.include_router(hf_lfs.router)
    router.include_router(hf_xet.router)  # Xet access tokens for uploads
    router.include_router(xet_cas.router)  # the Xet CAS those tokens open (/xet)
    router.include_router(hf_refs.router)  # branches and tags
    router.include_router(hf_discussions.router)  # discussions and pull requests
    router.include_router(hf_collections.router)
    router.include_router(hf_gates.router)  # access requests of gated repos
    router.include_router(hf_webhooks.router)  # /api/settings/webhooks
    router.include_router(hf_files.router)
    router.include_router(fallback_router(HfRoute))  # last: only what no HF route matched
    return router


def install_hf(app: FastAPI, *, max_commit_bytes: int = DEFAULT_MAX_COMMIT_BYTES) -> None:
    """Include the HF routes (call from ``create_app``).

    ``max_commit_bytes`` bounds one NDJSON commit: its files travel inline (base64), so
    the body is held in memory; large files go through the native chunked upload.
    """
    setattr(app.state, LIMIT_STATE_KEY, max_commit_bytes)
    app.include_router(hf_router())

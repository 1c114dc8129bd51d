"""Shared plumbing of the HF-compatible routes: backend lookup, caller, error rendering.

``huggingface_hub`` decides which exception to raise from the ``X-Error-Code`` header
(RepoNotFound, RevisionNotFound, EntryNotFound), so every HF error carries it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from ..errors import TooLarge as HubTooLarge
from ..services.hf_backend import HfBackend, HfBackendError, HfPrincipal, HfRepo, Invalid, TooLarge, Unauthorized

BACKEND_STATE_KEY = "hf_backend"
LIMIT_STATE_KEY = "hf_max_commit_bytes"


async def read_limited_body(request: Request) -> bytes:
    """The request body, refused with 413 beyond the app's HF commit limit."""
    limit = getattr(request.app.state, LIMIT_STATE_KEY, None)
    declared = request.headers.get("content-length")
    too_large = TooLarge(
        f"commit larger than {limit} bytes; push big files with `hub push` (chunked, resumable)"
    )
    if limit is not None and declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if limit is not None and size > limit:
                raise too_large
            chunks.append(chunk)
    except HubTooLarge:  # the limits middleware counted past the same limit first
        raise too_large from None
    return b"".join(chunks)


async def json_object(request: Request) -> dict:
    """The body as a JSON object, or a 400 (the middleware already bounded its size and depth)."""
    try:
        body = await request.json()
    except ValueError:
        raise Invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


def get_backend(request: Request) -> HfBackend:
    return getattr(request.app.state, BACKEND_STATE_KEY)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def get_caller(request: Request, backend: Annotated[HfBackend, Depends(get_backend)]) -> HfPrincipal | None:
    caller = backend.authenticate(bearer_token(request))
    request.state.user = caller.name if caller is not None else None  # for the access log
    return caller


def require_caller(caller: Annotated[HfPrincipal | None, Depends(get_caller)]) -> HfPrincipal:
    if caller is None:
        raise Unauthorized("a token is required (set HF_TOKEN)")
    return caller


def writable_repo(namespace: str, name: str, backend: Annotated[HfBackend, Depends(get_backend)],
                  caller: Annotated[HfPrincipal, Depends(require_caller)]) -> HfRepo:
    """The repo of the path, once ``caller`` is known to may write to it: runs before the
    route reads its body, so a caller without rights costs nothing and stores nothing."""
    repo = backend.get_repo(caller, namespace, name)
    backend.check_write(caller, repo)
    return repo


Backend = Annotated[HfBackend, Depends(get_backend)]
Caller = Annotated[HfPrincipal | None, Depends(get_caller)]
Writer = Annotated[HfPrincipal, Depends(require_caller)]
WritableRepo = Annotated[HfRepo, Depends(writable_repo)]


def _header_safe(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")[:500]


def error_response(
    error: HfBackendError, extra_headers: dict[str, str] | None = None, extra_body: dict | None = None
) -> JSONResponse:
    headers = {"X-Error-Code": error.code, "X-Error-Message": _header_safe(error.message)}
    if error.status == 401:
        # huggingface_hub treats exactly this message as "bad token", not "repo not found".
        headers["X-Error-Message"] = "Invalid credentials in Authorization header"
        headers.pop("X-Error-Code")
    headers.update(extra_headers or {})
    return JSONResponse({"error": error.message, **(extra_body or {})}, status_code=error.status, headers=headers)

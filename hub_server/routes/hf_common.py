"""Plumbing shared by the HF-compatible routes: the one handler that renders hub errors the HF
way (``HfRoute``), the caller (the native ``deps`` and ``services.auth``: one token rule for
both protocols), bounded bodies, and Link-header pagination."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..db.models import Repo
from ..errors import Invalid, RepoNotFound, ServiceError, TooLarge
from ..public_url import public_url
from ..services import hf_views, repos
from ..services.auth import Principal, require_user, require_write
from ..services.ref_commits import check_commit_rights
from .deps import Caller, HubDep
from .hf_repo_ids import canonical_path_params

LIMIT_STATE_KEY = "hf_max_commit_bytes"
T = TypeVar("T")


class HfRoute(APIRoute):
    """A route of the HF view: every ``ServiceError`` (raised by a dependency or the endpoint)
    is answered in the HF shape (``hf_views.error``) instead of the native JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def hf_handler(request: Request) -> Response:
            try:
                await canonical_path_params(request)  # repo ids ignore case, as on the HF Hub
                return await handler(request)
            except ServiceError as exc:
                return hf_error(exc)

        return hf_handler


def hf_error(exc: ServiceError, extra_headers: dict[str, str] | None = None) -> JSONResponse:
    status, body, headers = hf_views.error(exc, extra_headers)
    return JSONResponse(body, status_code=status, headers=headers)


def writer(who: Caller) -> Principal:
    return require_user(who)


def repo_type(request: Request) -> str:
    """``dataset`` or ``model``: which of the two prefixes (``/api/datasets``, ``/datasets/...``
    or the model ones) matched. One handler serves both repo types; this tells them apart."""
    path = getattr(request.scope.get("route"), "path", "")
    return "dataset" if path.startswith(("/api/datasets", "/datasets/")) else "model"


RepoType = Annotated[str, Depends(repo_type)]


def of_type(repo: Repo, kind: str) -> Repo:
    """``repo`` when it is of the URL's repo type; a dataset is not found under ``/api/models``
    and a model not under ``/api/datasets`` (HF's rule: the type is part of the repo's address)."""
    if (repo.kind == "dataset") != (kind == "dataset"):
        raise RepoNotFound(f"repository {repo.namespace}/{repo.name} not found")
    return repo


def typed_repo(namespace: str, name: str, hub: HubDep, who: Caller, kind: RepoType) -> Repo:
    """The visible repo of the path, of the path's repo type (checked before the route's work)."""
    return of_type(repos.get_repo(hub, who, namespace, name), kind)


def writable_repo(
    namespace: str, name: str, request: Request, hub: HubDep, who: Annotated[Principal, Depends(writer)], kind: RepoType
) -> Repo:
    """The repo of the path, once the caller is known to may write to it: runs before the
    route reads its body, so a caller without rights costs nothing and stores nothing. A commit
    route opening or feeding a pull request is checked per pull request (``ref_commits``)."""
    repo = of_type(repos.get_repo(hub, who, namespace, name), kind)
    if "revision" in request.path_params:
        check_commit_rights(
            who, namespace, request.path_params["revision"], request.query_params.get("create_pr") in ("1", "true")
        )
    else:
        require_write(who, namespace)
    return repo


Writer = Annotated[Principal, Depends(writer)]
TypedRepo = Annotated[Repo, Depends(typed_repo)]
WritableRepo = Annotated[Repo, Depends(writable_repo)]


async def read_limited_body(request: Request) -> bytes:
    """The request body, refused with 413 beyond the app's HF commit limit."""
    limit = getattr(request.app.state, LIMIT_STATE_KEY, None)
    declared = request.headers.get("content-length")
    too_large = TooLarge(f"commit larger than {limit} bytes; push big files with `hub push` (chunked, resumable)")
    if limit is not None and declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if limit is not None and size > limit:
                raise too_large
            chunks.append(chunk)
    except TooLarge:  # ours, or the limits middleware counted past the same limit first
        raise too_large from None
    return b"".join(chunks)


async def json_object(request: Request) -> dict:
    """The body as a JSON object, or a 400 (the middleware already bounded its size and depth)."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):
        raise Invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object")
    return body


def page_size(limit: int | None, default: int, most: int) -> int:
    if limit is not None and limit < 1:
        raise Invalid("limit must be a positive number")
    return min(limit or default, most)


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, ValueError):
        raise Invalid("invalid cursor") from None


def after_cursor(
    items: Sequence[T], key: Callable[[T], str], cursor: str | None, size: int
) -> tuple[list[T], str | None]:
    """The page of ``items`` (already in order) after the one whose key the cursor names, and the
    next cursor. A cursor names an item, not an offset, so a page never repeats one."""
    start = 0
    if cursor:
        last = decode_cursor(cursor)
        start = next((i + 1 for i, item in enumerate(items) if key(item) == last), None)
        if start is None:
            raise Invalid("invalid cursor")
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, encode_cursor(key(chunk[-1])) if more and chunk else None


def paged(request: Request, items: list[Any], next_cursor: str | None) -> JSONResponse:
    """A list answer; with a next page, the ``Link: <url>; rel="next"`` huggingface_hub follows
    (the same query with the cursor of the next page)."""
    headers = hf_views.next_link(public_url(request, cursor=next_cursor)) if next_cursor else None
    return JSONResponse(items, headers=headers)

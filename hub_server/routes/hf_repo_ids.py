"""Repo ids in HF paths the way the HF Hub treats them: case-insensitive, the stored spelling
winning (``canonical_path_params``, applied by ``HfRoute`` before any route runs; a moved repo's
former name is rewritten to its current one), and every path
that names no repo route (a repo id without a namespace, an unknown sub-path) answered with the
``X-Error-Code`` huggingface_hub turns into ``RepositoryNotFoundError`` (``EntryNotFoundError``
naming the path when the repo exists but this hub serves no such route), so ``repo_exists`` /
``file_exists`` / ``revision_exists`` return False instead of raising (``fallback_router``,
mounted after every other HF route)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ..db.models import Repo, RepoRedirect
from ..errors import EntryNotFound, RepoNotFound
from ..services import repos
from .deps import Caller, HubDep


def _stored_spelling(hub, namespace: str, name: str) -> tuple[str, str] | None:
    """The stored ``(namespace, name)`` of the repo the id names, ignoring case; a moved repo's
    former name gives its current one (``RepoRedirect``)."""
    full_name = f"{namespace}/{name}".lower()
    with hub.db.read() as s:
        row = s.execute(select(Repo.namespace, Repo.name).where(Repo.full_name == full_name)).first()
        if row is None:
            row = s.execute(
                select(Repo.namespace, Repo.name)
                .join(RepoRedirect, RepoRedirect.repo_id == Repo.id)
                .where(RepoRedirect.full_name == full_name)
            ).first()
    return (row[0], row[1]) if row is not None else None


async def canonical_path_params(request: Request) -> None:
    """Rewrite ``namespace``/``name`` path parameters to the stored spelling when they differ only
    by case or name a moved repo (indexed lookups; visibility is checked later by the route)."""
    params = request.scope.get("path_params") or {}
    namespace, name = params.get("namespace"), params.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str):
        return
    hub = getattr(request.app.state, "hub", None)
    if hub is None:
        return
    stored = await run_in_threadpool(_stored_spelling, hub, namespace, name)
    if stored is not None and stored != (namespace, name):
        request.scope["path_params"] = {**params, "namespace": stored[0], "name": stored[1]}


def fallback_router(route_class) -> APIRouter:
    """Catch-alls for the HF repo paths no other route matched."""
    router = APIRouter(route_class=route_class, include_in_schema=False)
    methods = ["GET", "HEAD", "POST", "PUT", "DELETE"]

    @router.api_route("/api/models/{rest:path}", methods=methods)
    def unknown_model_path(rest: str, request: Request, hub: HubDep, caller: Caller) -> None:
        parts = rest.split("/")
        if len(parts) < 3:
            raise RepoNotFound(f"repository {'/'.join(parts[:2])} not found")
        namespace, name = _stored_spelling(hub, parts[0], parts[1]) or (parts[0], parts[1])
        repos.get_repo(hub, caller, namespace, name)  # RepoNotFound unless the caller sees it
        tail = "/".join(parts[2:])[:200]
        raise EntryNotFound(f"{request.method} /api/models/{namespace}/{name}/{tail} is not served by this hub")

    @router.api_route("/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
    def resolve_without_namespace(name: str) -> None:
        raise RepoNotFound(f"repository {name} not found (a repo id is namespace/name)")

    return router

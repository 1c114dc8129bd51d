"""Native routes for repositories (create, info, visibility, delete) — thin wrappers over services."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..services import repos
from ..services.views import repo_json
from .bodies import NewRepo, RepoSettings
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1", tags=["repos"])


@router.post("/repos", status_code=201)
def create_repo(hub: HubDep, who: Caller, body: NewRepo) -> dict:
    repo = repos.create_repo(hub, who, body.namespace, body.name, kind=body.kind, private=body.private)
    return repo_json(repo)


@router.get("/repos/{namespace}/{name}")
def get_repo(hub: HubDep, who: Caller, namespace: str, name: str) -> dict:
    return repo_json(repos.get_repo(hub, who, namespace, name))


@router.patch("/repos/{namespace}/{name}")
def update_repo(hub: HubDep, who: Caller, namespace: str, name: str, body: RepoSettings) -> dict:
    """``{"private": true|false}``: the one visibility rule (the HF view's settings call it too)."""
    return repo_json(repos.set_private(hub, who, namespace, name, body.private))


@router.delete("/repos/{namespace}/{name}", status_code=204)
def delete_repo(hub: HubDep, who: Caller, namespace: str, name: str) -> Response:
    repos.delete_repo(hub, who, namespace, name)
    return Response(status_code=204)

"""Native routes for versions: list, resolve, publish, yank, delete, and downloads of a
repo's blobs and files (with Range)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ..services import gates, versions
from ..services.publish import publish
from ..services.pull_counts import count_pull
from ..services.signatures import signature_status
from ..services.storage_check import check_digest_field
from ..services.views import version_detail, version_summary
from .bodies import NewVersion, Yank
from .deps import Caller, HubDep
from .streaming import BYTES_RESPONSES, blob_response

router = APIRouter(prefix="/api/v1/repos/{namespace}/{name}", tags=["versions"])


@router.get("/versions")
def list_versions(hub: HubDep, who: Caller, namespace: str, name: str) -> dict:
    _, rows = versions.list_versions(hub, who, namespace, name)
    return {"items": [version_summary(v) for v in rows]}


@router.get("/resolve")
def resolve(hub: HubDep, who: Caller, namespace: str, name: str, ref: str = "main") -> dict:
    repo, version = versions.resolve(hub, who, namespace, name, ref)
    return version_detail(repo, version, signature_status(hub, version, repo.namespace))


@router.post("/versions/{version}/pulls", status_code=202)
async def record_pull(request: Request, hub: HubDep, who: Caller, namespace: str, name: str, version: str) -> dict:
    """A client reports one real pull (bytes fetched, not a cached re-pull): counted off the request path,
    once per caller and version in a window."""
    address = request.client.host if request.client else "unknown"
    return {"counted": await count_pull(hub, who, address, namespace, name, version)}


@router.post("/versions")
def publish_version(hub: HubDep, who: Caller, namespace: str, name: str, body: NewVersion) -> JSONResponse:
    files = [f.model_dump() for f in body.files]
    row, created = publish(hub, who, namespace, name, body.version, files, body.message)
    repo, row = versions.exact(hub, who, namespace, name, row.version)
    return JSONResponse(
        version_detail(repo, row, signature_status(hub, row, repo.namespace)), status_code=201 if created else 200
    )


@router.post("/versions/{version}/yank")
def yank(hub: HubDep, who: Caller, namespace: str, name: str, version: str, body: Yank | None = None) -> dict:
    return version_summary(versions.yank(hub, who, namespace, name, version, body.reason if body else ""))


@router.delete("/versions/{version}", status_code=204)
def delete_version(hub: HubDep, who: Caller, namespace: str, name: str, version: str) -> Response:
    versions.delete_version(hub, who, namespace, name, version)
    return Response(status_code=204)


@router.api_route("/blobs/{digest}", methods=["GET", "HEAD"], response_class=Response, responses=BYTES_RESPONSES)
def get_blob(hub: HubDep, who: Caller, request: Request, namespace: str, name: str, digest: str) -> Response:
    check_digest_field(digest, "blob")
    gates.require_access(hub, who, versions.repo_has_blob(hub, who, namespace, name, digest))
    return blob_response(hub, digest, hub.store.size(digest), request.headers.get("range"), method=request.method)


@router.api_route(
    "/files/{ref}/{path:path}", methods=["GET", "HEAD"], response_class=Response, responses=BYTES_RESPONSES
)
def get_file(hub: HubDep, who: Caller, request: Request, namespace: str, name: str, ref: str, path: str) -> Response:
    repo, version = versions.resolve(hub, who, namespace, name, ref)
    gates.require_access(hub, who, repo)  # a gated repo's files: owners and accepted requests only
    entry = versions.file_of(version, path)
    headers = {"X-Hub-Version": version.version, "X-Hub-Commit": version.commit}
    return blob_response(
        hub,
        entry.digest,
        entry.size,
        request.headers.get("range"),
        method=request.method,
        headers=headers,
        filename=path.rsplit("/", 1)[-1],
    )

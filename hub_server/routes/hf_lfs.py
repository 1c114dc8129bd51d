"""The git-LFS batch API of the HF view (``services.hf_lfs``): ``POST [/datasets]/{ns}/{name}.git/
info/lfs/objects/batch`` (write rights on the repo, checked before the body is read), the basic
transfer's ``PUT`` of the bytes (the upload session in the href is the credential, as git-LFS
hrefs are), the multipart transfer's part PUTs and completion call (the same credential), and the
verify call (the caller's token)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..public_url import public_base
from ..services import hf_lfs, uploads
from .deps import HubDep
from .hf_common import HfRoute, WritableRepo, Writer, json_object

router = APIRouter(tags=["huggingface"], route_class=HfRoute)

LFS_JSON = "application/vnd.git-lfs+json"


@router.post("/datasets/{namespace}/{name}.git/info/lfs/objects/batch")
@router.post("/{namespace}/{name}.git/info/lfs/objects/batch")
async def lfs_batch(
    namespace: str, name: str, request: Request, hub: HubDep, caller: Writer, repo: WritableRepo
) -> JSONResponse:
    body = await json_object(request)
    answer = await run_in_threadpool(hf_lfs.batch, hub, caller, repo.namespace, body, public_base(request))
    return JSONResponse(answer, media_type=LFS_JSON)


@router.put("/lfs/uploads/{upload_id}/{oid}")  # outside /api/: the basic PUT carries no token
async def lfs_upload(upload_id: str, oid: str, request: Request, hub: HubDep) -> Response:
    """The bytes of one object, hashed into the blob store and checked against ``oid``."""
    who = await run_in_threadpool(hf_lfs.uploader, hub, upload_id)
    await uploads.finish(hub, who, upload_id, f"sha256:{oid}", request.stream())
    return Response(status_code=200)


@router.put("/lfs/uploads/{upload_id}/parts/{number}")  # a multipart upload's part, no token either
async def lfs_upload_part(upload_id: str, number: int, request: Request, hub: HubDep) -> Response:
    """Part ``number`` of a multipart upload, appended to the session in order (a retried part that
    already arrived is acknowledged, not stored twice); the ETag is what the completion call lists."""
    who = await run_in_threadpool(hf_lfs.uploader, hub, upload_id)
    await uploads.append_at(hub, who, upload_id, hf_lfs.part_start(hub, number), request.stream())
    return Response(status_code=200, headers={"ETag": f'"{upload_id}-{number}"'})


@router.post("/lfs/uploads/{upload_id}/{oid}")  # the completion call: LFS headers only, as on the HF Hub
async def lfs_complete(upload_id: str, oid: str, request: Request, hub: HubDep) -> JSONResponse:
    who = await run_in_threadpool(hf_lfs.uploader, hub, upload_id)
    body = await json_object(request)
    await run_in_threadpool(hf_lfs.complete, hub, who, upload_id, oid, body)
    return JSONResponse({"oid": oid}, media_type=LFS_JSON)


@router.post("/api/lfs/verify")
async def lfs_verify(request: Request, hub: HubDep, caller: Writer, upload: str | None = None) -> JSONResponse:
    body = await json_object(request)
    await run_in_threadpool(hf_lfs.verify, hub, caller, body, upload)
    return JSONResponse({"oid": body.get("oid"), "size": body.get("size")}, media_type=LFS_JSON)

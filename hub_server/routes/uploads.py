"""Native routes for resumable blob uploads and the HEAD-blob existence check."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..services import uploads
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1", tags=["uploads"])


@router.head(
    "/blobs/{digest}",
    response_class=Response,
    responses={200: {"description": "the blob exists and may be used; Content-Length is its size"}},
)
def head_blob(hub: HubDep, who: Caller, digest: str) -> Response:
    size = uploads.blob_size(hub, who, digest)
    return Response(status_code=200, headers={"Content-Length": str(size)})


@router.post("/uploads", status_code=202)
def start_upload(hub: HubDep, who: Caller) -> dict:
    return uploads.start(hub, who)


@router.get("/uploads/{upload_id}")
def upload_status(hub: HubDep, who: Caller, upload_id: str) -> dict:
    return uploads.status(hub, who, upload_id)


@router.patch("/uploads/{upload_id}")
async def append_chunk(hub: HubDep, who: Caller, request: Request, upload_id: str) -> JSONResponse:
    answer = await uploads.append(
        hub,
        who,
        upload_id,
        request.headers.get("content-range"),
        request.stream(),
        credential=request.headers.get("authorization"),
    )
    return JSONResponse(answer, status_code=202, headers={"Upload-Offset": str(answer["offset"])})


@router.put("/uploads/{upload_id}", status_code=201)
async def finish_upload(hub: HubDep, who: Caller, request: Request, upload_id: str, digest: str | None = None) -> dict:
    return await uploads.finish(
        hub, who, upload_id, digest, request.stream(), credential=request.headers.get("authorization")
    )


@router.delete("/uploads/{upload_id}", status_code=204)
async def cancel_upload(hub: HubDep, who: Caller, upload_id: str) -> Response:
    await run_in_threadpool(uploads.cancel, hub, who, upload_id)
    return Response(status_code=204)

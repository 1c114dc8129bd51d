"""The Xet CAS routes under ``/xet`` (the ``casUrl`` of ``xet-write-token``), as ``hf_xet`` calls
them with ``Authorization: Bearer <Xet access token>`` (``services.xet_tokens``):

- ``POST /xet/v1/xorbs/default/{hash}``: one xorb → ``{"was_inserted": bool}``;
- ``POST /xet/v2/shards``: a shard; the answer streams NDJSON frames while the files are rebuilt
  (``{"type": "progress"}`` every few seconds, so a long rebuild never looks idle to the client),
  then ``{"type": "result"}`` or ``{"type": "error", "message"}`` (hf_xet shows that message);
- ``POST /xet/v1/shards``: the same, answered when done (``{"result": 1}``) or with an error
  status, for clients without the streamed form;
- ``GET /xet/v1/chunks/default/{hash}`` (global deduplication) and ``POST
  /xet/v1/xorb-grants/...`` (presigned xorb uploads): 404, which hf_xet reads as "none here".

Bodies are read on the event loop into a spooled file (minimum rate, charged to the daily upload
allowance, at most ``HUB_MAX_CONCURRENT_UPLOADS`` at once per account), then handled in a thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import IO, Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import NotFound, ServiceError
from ..limits.slow_bodies import spool_body
from ..services import xet_cas, xet_tokens
from ..services.context import Hub
from ..services.uploads import body_slots, upload_charger
from ..services.xet_shard import MAX_SHARD_BYTES
from ..services.xet_tokens import XetGrant
from ..services.xet_xorb import MAX_XORB_BYTES
from .deps import HubDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/xet", tags=["xet"])
HEARTBEAT_SECONDS = 5.0
_NDJSON = "application/x-ndjson"
_REBUILDS = threading.BoundedSemaphore(4)  # shards rebuilt at once by this process; the rest wait


async def grant(request: Request, hub: HubDep) -> XetGrant:
    who = await run_in_threadpool(xet_tokens.check, hub, request.headers.get("authorization"))
    request.state.user = who.user  # for the access log
    return who


Grant = Annotated[XetGrant, Depends(grant)]


def _prefix(prefix: str) -> None:
    if prefix != "default":
        raise NotFound(f"no CAS prefix {prefix[:64]!r} here (only 'default')")


async def _body(hub: Hub, who: XetGrant, request: Request, limit: int) -> tuple[IO[bytes], int]:
    with body_slots(hub).hold(who.user):
        return await spool_body(request.stream(), hub.settings, limit, upload_charger(hub, who.user))


@router.post("/v1/xorbs/{prefix}/{xorb}")
async def upload_xorb(prefix: str, xorb: str, request: Request, hub: HubDep, who: Grant) -> JSONResponse:
    _prefix(prefix)
    xet_cas.check_xorb_name(xorb)
    body, length = await _body(hub, who, request, MAX_XORB_BYTES)
    try:
        inserted = await run_in_threadpool(xet_cas.put_xorb, hub, who, xorb, body, length)
    finally:
        body.close()
    return JSONResponse({"was_inserted": inserted})


@router.post("/v1/xorb-grants/{prefix}/{xorb}")
async def xorb_grant(prefix: str, xorb: str, who: Grant) -> None:
    raise NotFound("no presigned xorb uploads here: POST the xorb to /v1/xorbs/default/{hash}")


@router.get("/v1/chunks/{prefix}/{chunk}")
async def global_dedup(prefix: str, chunk: str, who: Grant) -> None:
    raise NotFound("no global deduplication here: each upload sends the chunks its client does not hold")


def _add_shard(
    hub: Hub, who: XetGrant, body: IO[bytes], length: int, progress: Callable[[int], None] | None = None
) -> list[dict[str, Any]]:
    with _REBUILDS:
        plan = xet_cas.plan_shard(hub, who, body, length)
        body.close()
        return xet_cas.rebuild(hub, who, plan, progress)


@router.post("/v1/shards")
async def upload_shard(request: Request, hub: HubDep, who: Grant) -> JSONResponse:
    body, length = await _body(hub, who, request, MAX_SHARD_BYTES)
    try:
        await run_in_threadpool(_add_shard, hub, who, body, length)
    finally:
        body.close()
    return JSONResponse({"result": 1})


@router.post(
    "/v2/shards",
    response_class=StreamingResponse,
    responses={200: {"description": "NDJSON frames: progress, then result or error", "content": {_NDJSON: {}}}},
)
async def upload_shard_streamed(request: Request, hub: HubDep, who: Grant) -> StreamingResponse:
    body, length = await _body(hub, who, request, MAX_SHARD_BYTES)
    return StreamingResponse(_frames(hub, who, body, length), media_type=_NDJSON)


async def _frames(hub: Hub, who: XetGrant, body: IO[bytes], length: int) -> AsyncIterator[bytes]:
    """Run the rebuild in a thread; a progress frame every ``HEARTBEAT_SECONDS``, then the outcome."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()
    moved = [0]

    def work() -> None:
        try:
            outcome["files"] = _add_shard(hub, who, body, length, lambda n: moved.__setitem__(0, moved[0] + n))
        except ServiceError as exc:
            outcome["error"] = exc.message
        except Exception:
            log.exception("rebuilding the files of a Xet shard failed")
            outcome["error"] = "internal error while rebuilding the files; upload them again"
        finally:
            body.close()
            finished.set()

    threading.Thread(target=work, name="xet-shard", daemon=True).start()
    last = time.monotonic()
    while not finished.is_set():
        await anyio.sleep(0.1)
        if time.monotonic() - last >= HEARTBEAT_SECONDS:
            last = time.monotonic()
            yield _frame({"type": "progress", "bytes_rebuilt": moved[0]})
    if "error" in outcome:
        yield _frame({"type": "error", "message": outcome["error"]})
    else:
        files = outcome["files"]
        yield _frame({"type": "result", "result": 1, "files": len(files), "bytes": sum(f["size"] for f in files)})


def _frame(content: dict) -> bytes:
    return json.dumps(content).encode() + b"\n"

"""Native routes for verified evaluations: a repo's results, re-evaluation by its owner, the per-base
leaderboard, and the three calls a worker makes on a job (claim, heartbeat, result). Thin: the decisions
live in ``services/evaluations.py`` and ``services/leaderboard.py``."""

from __future__ import annotations

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from ..services import evaluations, leaderboard
from .bodies import EvalClaim, EvalHeartbeat, EvalResult, Reevaluate
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1", tags=["evaluations"])


@router.get("/repos/{namespace}/{name}/evaluations")
def list_evaluations(hub: HubDep, who: Caller, namespace: str, name: str) -> list[dict]:
    """One object per (version, declared eval): verified ``value`` (null until done) beside ``reported``; a
    done one carries ``verify_token``, checkable offline against ``GET /api/v1/evaluations/key``."""
    from ..services.eval_signing import token_for

    rows = evaluations.list_for_repo(hub, who, namespace, name)
    for row in rows:
        row["verify_token"] = token_for(hub, row) if row["status"] == "done" else None
    return rows


@router.post("/repos/{namespace}/{name}/evaluations", status_code=202)
def reevaluate(hub: HubDep, who: Caller, namespace: str, name: str, body: Reevaluate) -> dict:
    return {"jobs": evaluations.reevaluate(hub, who, namespace, name, body.version)}


@router.get("/leaderboard")
def get_leaderboard(
    hub: HubDep,
    who: Caller,
    base: str = Query(max_length=80),
    dataset: str = Query(max_length=300),
    metric: str | None = Query(None, max_length=32),
) -> list[dict]:
    """Verified results on eval set ``dataset`` (``ns/name`` or ``ns/name@version``) of adapters pinned to
    base fingerprint ``base``, best first."""
    return leaderboard.board(hub, who, base=base, dataset=dataset, metric=metric)


@router.post("/evaluations/{job_id}/claim")
def claim(hub: HubDep, who: Caller, job_id: str, body: EvalClaim) -> dict:
    return evaluations.claim(hub, who, job_id, body.worker, body.evaluator)


@router.post("/evaluations/{job_id}/heartbeat")
def heartbeat(hub: HubDep, who: Caller, job_id: str, body: EvalHeartbeat) -> dict:
    return evaluations.heartbeat(hub, who, job_id, body.worker)


@router.post("/evaluations/{job_id}/result")
async def result(hub: HubDep, who: Caller, job_id: str, body: EvalResult) -> dict:
    row, retry = await run_in_threadpool(
        lambda: evaluations.report(
            hub, who, job_id, body.worker, status=body.status, value=body.value, n=body.n, reason=body.reason
        )
    )
    if retry:
        await run_in_threadpool(evaluations.send, hub, [job_id])
    return row


@router.get("/evaluations/key")
def signing_key(hub: HubDep) -> dict:
    """The public key that checks the ``verifyToken`` of every verified result, offline."""
    from ..services.eval_signing import public_key

    return public_key(hub)

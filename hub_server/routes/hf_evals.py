"""Verified evaluations in Hugging Face's shapes, so unmodified ``huggingface_hub`` reads them:
``model_info(expand=["evalResults"])`` (the same route as ``model_info``, see ``hf_api``) and
``get_dataset_leaderboard`` (``GET /api/datasets/{id}/leaderboard``; ``base_model=false`` includes repos that
declare a base model, which every adapter does)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..public_url import public_base
from ..services import evaluations, hf_views, leaderboard
from ..services.eval_signing import token_for
from ..services.names import namespace_owner
from ..services.repos import find_repo
from .deps import Caller, HubDep
from .hf_common import HfRoute

router = APIRouter(prefix="/api", route_class=HfRoute)


def eval_results(request: Request, hub, caller, namespace: str, name: str, version: str | None) -> list[dict]:
    """``evalResults`` of one version: verified ones signed by the hub, the card's other claims unverified."""
    url = f"{public_base(request)}/api/v1/repos/{namespace}/{name}/evaluations"
    found = []
    for row in evaluations.list_for_repo(hub, caller, namespace, name):
        if row["version"] != version:
            continue
        if row["status"] == "done":
            found.append(hf_views.eval_result(row, verify_token=token_for(hub, row), source_url=url))
        elif row["reported"] is not None:
            found.append(hf_views.eval_result(row, verify_token=None, source_url=url))
    return found


@router.get("/datasets/{namespace}/{name}/leaderboard")
def dataset_leaderboard(
    namespace: str, name: str, request: Request, hub: HubDep, caller: Caller, base_model: str | None = None
) -> list[dict]:
    with hub.db.read() as s:
        find_repo(s, caller, namespace, name)  # 404 for a missing or hidden dataset
    rows = leaderboard.board(hub, caller, base=None, dataset=f"{namespace}/{name}")
    if (base_model or "true").lower() != "false":  # HF's default: only repos that declare no base model
        rows = [r for r in rows if not r.get("base")]
    url = f"{public_base(request)}/api/v1/leaderboard"
    with hub.db.read() as s:
        kinds = {ns: (namespace_owner(s, ns) or ("user", None))[0] for ns in {r["repo"].split("/", 1)[0] for r in rows}}
    return [
        hf_views.leaderboard_entry(
            i + 1, row, author_type="org" if kinds.get(row["repo"].split("/")[0]) == "org" else "user", source_url=url
        )
        for i, row in enumerate(rows)
    ]

"""Pages to find adapters: home, search (the API's filters and sorts, as links and a GET
form, so any search can be bookmarked), a base's adapters, and a user's or org's repos."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from sqlalchemy import select

from ..db.models import Org, User
from ..errors import NotFound
from ..services.leaderboard import boards_for_base
from ..services.repos import find_base
from ..services.search import SORTS, search, top_bases
from .render import page
from .routing import HubDep, PageRoute, VisitorDep, redirect

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = 20
# Counting adapters per base reads every pinned repo, so the home page recounts at most this often
# (public repos only: the one list is the same for every visitor).
BASES_TTL_SECONDS = 60.0
FILTER_NAMES = ("kind", "base", "fingerprint", "method", "task", "tag", "license", "namespace")


@router.get("/")
def home(request: Request, hub: HubDep, visitor: VisitorDep):
    who = visitor.principal
    lists = {
        sort: search(hub, who, kind="adapter", sort=sort, limit=6)["items"]
        for sort in ("updated", "downloads", "likes")
    }
    return page(request, visitor, "home.html", lists=lists, bases=_top_bases(request, hub))


def _top_bases(request: Request, hub) -> list[dict]:
    cached = getattr(request.app.state, "web_top_bases", None)
    if cached is None or time.monotonic() - cached[0] > BASES_TTL_SECONDS:
        cached = (time.monotonic(), top_bases(hub, None))
        request.app.state.web_top_bases = cached
    return cached[1]


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params[k] for k in FILTER_NAMES if request.query_params.get(k)}


@router.get("/search")
def search_page(
    request: Request,
    hub: HubDep,
    visitor: VisitorDep,
    q: str | None = None,
    sort: str = "downloads",
    cursor: str | None = None,
):
    filters = _filters(request)
    tag = filters.pop("tag", None)
    results = search(hub, visitor.principal, q=q, tag=tag, sort=sort, limit=PAGE, cursor=cursor, **filters)
    facets = {
        key: sorted({str(item["metadata"].get(key)) for item in results["items"] if item["metadata"].get(key)})
        for key in ("method", "task", "license")
    }
    facets["kind"] = ["adapter", "base", "dataset"]
    if tag:
        filters["tag"] = tag
    return page(
        request,
        visitor,
        "search.html",
        q=q or "",
        sort=sort,
        sorts=list(SORTS),
        results=results,
        filters=filters,
        facets=facets,
    )


@router.get("/datasets")
def datasets_page():
    """Every dataset: the search page filtered to the kind."""
    return redirect("/search?kind=dataset")


@router.get("/bases/{fingerprint}")
def base_page(
    request: Request,
    hub: HubDep,
    visitor: VisitorDep,
    fingerprint: str,
    method: str | None = None,
    task: str | None = None,
    cursor: str | None = None,
):
    """Every adapter pinned to this base's weights, grouped by method and task."""
    who = visitor.principal
    results = search(
        hub, who, kind="adapter", fingerprint=fingerprint, method=method, task=task, limit=50, cursor=cursor
    )
    with hub.db.read() as s:
        base_repo = find_base(s, who, fingerprint)
    if not results["items"] and base_repo is None and not (method or task or cursor):
        raise NotFound(f"no adapters or base with fingerprint {fingerprint} on this hub")
    groups: dict[tuple[str, str], list[dict]] = {}
    for item in results["items"]:
        key = (item["metadata"].get("method") or "unknown", item["metadata"].get("task") or "unknown")
        groups.setdefault(key, []).append(item)
    base_id = base_repo and f"{base_repo.namespace}/{base_repo.name}"
    if not base_id and results["items"]:
        base_id = results["items"][0]["metadata"].get("base_id")
    return page(
        request,
        visitor,
        "base_page.html",
        fingerprint=fingerprint,
        base_id=base_id,
        base_repo=base_repo,
        groups=sorted(groups.items()),
        results=results,
        method=method,
        task=task,
        boards=boards_for_base(hub, who, fingerprint),
    )


@router.get("/{namespace}")
def owner_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, cursor: str | None = None):
    """A user's or org's repos; their private ones only to themselves (and members)."""
    with hub.db.read() as s:
        user = s.scalar(select(User.name).where(User.name == namespace))
        org = None if user else s.scalar(select(Org.name).where(Org.name == namespace))
    if user is None and org is None:
        raise NotFound(f"no user or org named {namespace}")
    results = search(hub, visitor.principal, namespace=namespace, sort="updated", limit=PAGE, cursor=cursor)
    return page(request, visitor, "owner.html", namespace=namespace, is_org=org is not None, results=results)

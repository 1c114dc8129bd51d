"""A collection's page (``/collections/NS/SLUG``, the ``Collection.url`` ``huggingface_hub`` hands
out): its title, description and repos (and nested collections) in order with their notes. Private collections and private
repos inside one are hidden exactly as in the API (``services.collections``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..db.models import Repo
from ..services import collections
from ..services.views import repo_json
from .render import page
from .routing import HubDep, PageRoute, VisitorDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/collections/{namespace}/{slug}")
def collection_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, slug: str):
    with hub.db.read() as s:
        row = collections.visible(s, visitor.principal, f"{namespace}/{slug}")
        shown = [
            (item, repo_json(target) if isinstance(target, Repo) else None, target)
            for item, target in collections.items(s, visitor.principal, row)
        ]
    return page(request, visitor, "collection.html", c=row, shown=shown)

"""HF routes of collections (``list_collections``, ``get_collection``, ``create_collection``,
``update_collection_metadata``, ``delete_collection``, ``add_collection_item``,
``update_collection_item``, ``delete_collection_item``) over ``services.collections``; the JSON
shapes are what ``huggingface_hub`` parses into ``Collection`` and ``CollectionItem``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..db.models import Collection, CollectionItem, Repo
from ..errors import Conflict
from ..public_url import public_base
from ..services import collections
from ..services.auth import Principal
from ..services.hf_views import iso
from .deps import Caller, HubDep
from .hf_common import HfRoute, Writer, json_object, page_size

router = APIRouter(prefix="/api/collections", tags=["huggingface"], route_class=HfRoute)


def collection_json(hub, who: Principal | None, row: Collection, base: str, *, most: int | None = None) -> dict:
    with hub.db.read() as s:
        shown = collections.items(s, who, row)
    if most is not None:
        shown = shown[:most]
    return {
        "slug": row.slug,
        "title": row.title,
        "description": row.description or None,
        "owner": {"name": row.namespace, "type": "user"},
        "lastUpdated": iso(row.updated_at),
        "position": row.position,
        "private": row.private,
        "theme": row.theme,
        "upvotes": 0,
        "isUpvotedByUser": False,
        "url": f"{base}/collections/{row.slug}",
        "items": [item_json(item, target) for item, target in shown],
    }


def item_json(item: CollectionItem, target: Repo | Collection) -> dict:
    """A repo item, or a nested collection (``id`` its key, ``slug`` its current slug: the client
    reads ``slug`` as the item id, as for the HF Hub's)."""
    common = {
        "_id": item.object_id,
        "type": item.item_type,
        "position": item.position,
        "note": {"text": item.note} if item.note else None,
        "private": target.private,
    }
    if isinstance(target, Collection):
        return {**common, "id": target.slug.rsplit("-", 1)[-1], "slug": target.slug, "title": target.title}
    return {
        **common,
        "id": item.item_id,
        "author": target.namespace,
        "downloads": target.downloads,
        "likes": target.likes or 0,
    }


def _slug(namespace: str, slug: str) -> str:
    return f"{namespace}/{slug}"


@router.get("")
def list_collections(
    request: Request,
    hub: HubDep,
    caller: Caller,
    owner: str | None = None,
    item: str | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> list:
    rows = collections.listing(hub, caller, owner, item, page_size(limit, 100, 100))
    listed = [collection_json(hub, caller, r, public_base(request), most=4) for r in rows]
    for entry in listed:
        entry.pop("position")  # the client numbers a listing itself
    return listed


@router.post("")
async def create_collection(request: Request, hub: HubDep, caller: Writer):
    body = await json_object(request)
    row, created = await run_in_threadpool(
        collections.create,
        hub,
        caller,
        body.get("namespace"),
        body.get("title"),
        body.get("description"),
        body.get("private", False),
    )
    if not created:
        raise Conflict(f"a collection titled {row.title!r} already exists in {row.namespace}", slug=row.slug)
    return collection_json(hub, caller, row, public_base(request))


@router.get("/{namespace}/{slug}")
def get_collection(namespace: str, slug: str, request: Request, hub: HubDep, caller: Caller) -> dict:
    with hub.db.read() as s:
        row = collections.visible(s, caller, _slug(namespace, slug))
    return collection_json(hub, caller, row, public_base(request))


@router.patch("/{namespace}/{slug}")
async def update_collection(namespace: str, slug: str, request: Request, hub: HubDep, caller: Writer) -> dict:
    body = await json_object(request)
    row = await run_in_threadpool(collections.update, hub, caller, _slug(namespace, slug), body)
    return {"data": collection_json(hub, caller, row, public_base(request))}


@router.delete("/{namespace}/{slug}")
async def delete_collection(namespace: str, slug: str, hub: HubDep, caller: Writer) -> dict:
    await run_in_threadpool(collections.delete, hub, caller, _slug(namespace, slug))
    return {}


@router.post("/{namespace}/{slug}/items")
async def add_item(namespace: str, slug: str, request: Request, hub: HubDep, caller: Writer) -> dict:
    body = await json_object(request)
    row = await run_in_threadpool(
        collections.add_item, hub, caller, _slug(namespace, slug), body.get("item"), body.get("note")
    )
    return collection_json(hub, caller, row, public_base(request))


@router.patch("/{namespace}/{slug}/items/{object_id}")
async def update_item(namespace: str, slug: str, object_id: str, request: Request, hub: HubDep, caller: Writer) -> dict:
    body = await json_object(request)
    await run_in_threadpool(collections.update_item, hub, caller, _slug(namespace, slug), object_id, body)
    return {}


@router.delete("/{namespace}/{slug}/items/{object_id}")
async def delete_item(namespace: str, slug: str, object_id: str, hub: HubDep, caller: Writer) -> dict:
    await run_in_threadpool(collections.delete_item, hub, caller, _slug(namespace, slug), object_id)
    return {}

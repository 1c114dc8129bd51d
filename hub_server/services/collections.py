"""Collections: a user's or org's curated, ordered list of repos (HF's ``create_collection``,
``add_collection_item``, ``get_collection`` …), for the HF routes and the site.

Rules: only those who may write to a namespace create, change or delete its collections; a private
collection is 404 to everyone else. An item must be a repo, or another collection (by slug, as on the
HF Hub; not the collection itself), the caller can see when it is added, and items whose repo or
collection later turns private (or is deleted) are left out for viewers who cannot see it, so a
collection never reveals a private repo or collection. Titles, notes and item counts are bounded."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import Collection, CollectionItem, Repo, utcnow
from ..errors import Conflict, Invalid, NotFound, TooLarge
from .auth import Principal, can_see, require_user, require_write
from .context import Hub
from .names import check_name

MAX_TITLE_CHARS, MAX_NOTE_CHARS, MAX_DESCRIPTION_CHARS, MAX_ITEMS = 60, 500, 2000, 1000
ITEM_TYPES = ("model", "dataset", "collection")
THEMES = ("default", "orange", "blue", "green", "purple", "pink", "indigo")


def _text(value: object, what: str, limit: int, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise Invalid(f"a {what} is required" if required else f"the {what} must be text")
    if len(value) > limit:
        raise TooLarge(f"the {what} is longer than the limit of {limit} characters")
    if "\x00" in value:
        raise Invalid(f"NUL characters are not allowed in the {what}")
    return value.strip()


def _slug(namespace: str, title: str, key: str | None = None) -> str:
    """``namespace/title-words-<24 hex>``: the hex part is the collection's stable key, so a new
    title gives a new slug and the old one still finds the collection (as on the HF Hub)."""
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "collection"
    return f"{namespace}/{words}-{key or secrets.token_hex(12)}"


_KEY = re.compile(r"([^/]+)/.*-([0-9a-f]{24})")


def visible(session: Session, who: Principal | None, slug: str) -> Collection:
    row = session.scalar(select(Collection).where(Collection.slug == slug[:260]))
    if row is None and (m := _KEY.fullmatch(slug[:260])):  # a slug from before a title change
        row = session.scalar(
            select(Collection).where(Collection.namespace == m[1], Collection.slug.endswith(f"-{m[2]}"))
        )
    if row is None or (row.private and (who is None or not who.owns(row.namespace))):
        raise NotFound(f"collection {slug[:260]} not found")
    return row


def _owned(session: Session, who: Principal | None, slug: str) -> Collection:
    row = visible(session, require_user(who), slug)
    require_write(who, row.namespace)
    return row


def items(session: Session, who: Principal | None, row: Collection) -> list[tuple[CollectionItem, Repo | Collection]]:
    """The collection's items in order, each with its repo or (item type ``collection``) the nested
    collection under its current slug; those the viewer cannot see left out."""
    found = session.scalars(
        select(CollectionItem)
        .where(CollectionItem.collection_id == row.id)
        .order_by(CollectionItem.position, CollectionItem.id)
    ).all()
    names = [i.item_id.lower() for i in found if i.item_type != "collection"]
    repos = {r.full_name: r for r in session.scalars(select(Repo).where(Repo.full_name.in_(names)))} if names else {}
    out: list[tuple[CollectionItem, Repo | Collection]] = []
    for item in found:
        if item.item_type == "collection":
            nested = _visible_or_none(session, who, item.item_id)
            if nested is not None:
                out.append((item, nested))
            continue
        repo = repos.get(item.item_id.lower())
        if repo is not None and can_see(who, repo):
            out.append((item, repo))
    return out


def _visible_or_none(session: Session, who: Principal | None, slug: str) -> Collection | None:
    try:
        return visible(session, who, slug)
    except NotFound:
        return None


def _target(s: Session, who: Principal | None, row: Collection, item: dict) -> str:
    """The stored id of what ``item`` names: ``ns/name`` of a visible repo, or the slug of a visible
    collection (found by its stable key, so a later title change keeps the item)."""
    if item["type"] == "collection":
        nested = _visible_or_none(s, who, item["id"])
        if nested is None:
            raise NotFound(f"collection {item['id'][:260]} not found")
        if nested.id == row.id:
            raise Invalid("a collection cannot contain itself")
        return nested.slug
    repo = s.scalar(select(Repo).where(Repo.full_name == item["id"].lower()[:201]))
    if repo is None or not can_see(who, repo) or (repo.kind == "dataset") != (item["type"] == "dataset"):
        raise NotFound(f"{item['type']} {item['id'][:201]} not found")  # a model is no dataset (HF's 404)
    return f"{repo.namespace}/{repo.name}"


def create(
    hub: Hub, who: Principal | None, namespace: object, title: object, description: object, private: object
) -> tuple[Collection, bool]:
    """(collection, created): an existing collection of the same title is returned with ``False``."""
    who = require_user(who)
    namespace = check_name(namespace if isinstance(namespace, str) else who.name, "namespace")
    require_write(who, namespace)
    title = _text(title, "title", MAX_TITLE_CHARS, required=True)
    description = _text(description, "description", MAX_DESCRIPTION_CHARS)
    if not isinstance(private, bool):
        raise Invalid("'private' must be true or false")
    with hub.db.write() as s:
        same = s.scalar(select(Collection).where(Collection.namespace == namespace, Collection.title == title))
        if same is not None:
            return same, False
        now = utcnow()
        row = Collection(
            slug=_slug(namespace, title),
            namespace=namespace,
            title=title,
            description=description,
            private=private,
            theme="default",
            position=0,
            created_at=now,
            updated_at=now,
        )
        s.add(row)
        s.flush()
        return row, True


def update(hub: Hub, who: Principal | None, slug: str, changes: dict) -> Collection:
    with hub.db.write() as s:
        row = _owned(s, who, slug)
        if "title" in changes:
            row.title = _text(changes["title"], "title", MAX_TITLE_CHARS, required=True)
            row.slug = _slug(row.namespace, row.title, row.slug.rsplit("-", 1)[-1])
        if "description" in changes:
            row.description = _text(changes["description"], "description", MAX_DESCRIPTION_CHARS)
        if "private" in changes:
            if not isinstance(changes["private"], bool):
                raise Invalid("'private' must be true or false")
            row.private = changes["private"]
        if "theme" in changes:
            if changes["theme"] not in THEMES:
                raise Invalid(f"invalid theme: use one of {', '.join(THEMES)}")
            row.theme = changes["theme"]
        if "position" in changes:
            row.position = _position(changes["position"])
        row.updated_at = utcnow()
        return row


def _position(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_ITEMS:
        raise Invalid(f"'position' must be a whole number from 0 to {MAX_ITEMS - 1}")
    return value


def delete(hub: Hub, who: Principal | None, slug: str) -> None:
    with hub.db.write() as s:
        s.delete(_owned(s, who, slug))


def add_item(hub: Hub, who: Principal | None, slug: str, item: object, note: object) -> Collection:
    """Add a repo or a collection the caller can see; 409 if it is already there."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or item.get("type") not in ITEM_TYPES:
        raise Invalid(
            '\'item\' must be {"id": "namespace/name", "type": "model" or "dataset"}'
            ' or {"id": "<collection slug>", "type": "collection"}'
        )
    note = _text(note, "note", MAX_NOTE_CHARS) or None
    try:
        with hub.db.write() as s:
            row = _owned(s, who, slug)
            full = _target(s, who, row, item)
            count = s.scalar(select(func.count()).where(CollectionItem.collection_id == row.id)) or 0
            if count >= MAX_ITEMS:
                raise TooLarge(f"a collection holds at most {MAX_ITEMS} items")
            if _stored(s, row, item["type"], full) is not None:
                raise Conflict(f"{full} is already in collection {row.slug}")
            s.add(
                CollectionItem(
                    collection_id=row.id,
                    object_id=secrets.token_hex(12),
                    item_type=item["type"],
                    item_id=full,
                    position=count,
                    note=note,
                )
            )
            row.updated_at = utcnow()
            return row
    except IntegrityError:
        raise Conflict(f"{item['id'][:201]} is already in collection {slug[:260]}") from None


def _stored(s: Session, row: Collection, kind: str, full: str) -> int | None:
    """The item already holding ``full``: a repo by ``ns/name``; a collection by its stable key
    (its slug's last part), whatever title it had when it was added."""
    if kind == "collection":
        same = CollectionItem.item_id.endswith("-" + full.rsplit("-", 1)[-1])
    else:
        same = CollectionItem.item_id == full
    return s.scalar(
        select(CollectionItem.id).where(CollectionItem.collection_id == row.id, CollectionItem.item_type == kind, same)
    )


def _item(s: Session, row: Collection, object_id: str) -> CollectionItem:
    found = s.scalar(
        select(CollectionItem).where(CollectionItem.collection_id == row.id, CollectionItem.object_id == object_id[:24])
    )
    if found is None:
        raise NotFound(f"item {object_id[:40]} not found in collection {row.slug}")
    return found


def update_item(hub: Hub, who: Principal | None, slug: str, object_id: str, changes: dict) -> None:
    with hub.db.write() as s:
        row = _owned(s, who, slug)
        found = _item(s, row, object_id)
        if changes.get("note") is not None:
            found.note = _text(changes["note"], "note", MAX_NOTE_CHARS) or None
        if changes.get("position") is not None:
            _move(s, row, found, _position(changes["position"]))
        row.updated_at = utcnow()


def _move(s: Session, row: Collection, found: CollectionItem, position: int) -> None:
    """Put ``found`` at ``position`` and number the others around it (0, 1, 2 …)."""
    order = [
        i
        for i in s.scalars(
            select(CollectionItem)
            .where(CollectionItem.collection_id == row.id)
            .order_by(CollectionItem.position, CollectionItem.id)
        )
        if i.id != found.id
    ]
    order.insert(min(position, len(order)), found)
    for index, item in enumerate(order):
        item.position = index


def delete_item(hub: Hub, who: Principal | None, slug: str, object_id: str) -> None:
    with hub.db.write() as s:
        row = _owned(s, who, slug)
        s.delete(_item(s, row, object_id))
        row.updated_at = utcnow()


def listing(hub: Hub, who: Principal | None, owner: str | None, item: str | None, limit: int) -> list[Collection]:
    """Visible collections, newest change first, by owner and/or holding an item (``models/ns/name``)."""
    with hub.db.read() as s:
        query = select(Collection)
        if owner:
            query = query.where(Collection.namespace == owner)
        if item:
            kind, _, repo_id = item.partition("s/")
            query = query.where(
                Collection.id.in_(
                    select(CollectionItem.collection_id).where(
                        CollectionItem.item_type == kind, func.lower(CollectionItem.item_id) == repo_id.lower()
                    )
                )
            )
        rows = s.scalars(query.order_by(Collection.updated_at.desc(), Collection.id.desc()).limit(500)).all()
        return [r for r in rows if not r.private or (who is not None and who.owns(r.namespace))][:limit]

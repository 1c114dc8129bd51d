"""Repository search: indexed filters, three sort orders and keyset (cursor) pagination,
so a page costs the same at row 100,000 as at row 0."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import and_, exists, false, func, or_, select

from ..db.models import Repo, RepoTag, RepoTerm
from ..errors import Invalid
from .auth import Principal
from .context import Hub
from .search_terms import TOP, query_words

# A query word whose term rows stop before this many is "sparse": its repo ids are fetched first and
# the page is sorted from them. A denser word is checked per repo while walking the sort index, which
# finds a page after about (page size / density) rows.
SPARSE_ROWS = 5000

SORTS = {"downloads": (Repo.downloads, True), "updated": (Repo.updated_at, True), "name": (Repo.full_name, False)}
FILTERS = {"namespace": Repo.namespace, "kind": Repo.kind, "base": Repo.base_id, "fingerprint": Repo.base_fingerprint,
           "method": Repo.method, "task": Repo.task, "license": Repo.license}


def _encode(value: Any, repo_id: int) -> str:
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else value, repo_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        value, repo_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort == "updated":
            from datetime import datetime

            value = datetime.fromisoformat(value)
        return value, int(repo_id)
    except (ValueError, TypeError):
        raise Invalid("invalid cursor") from None


def _starts_with(word: str):
    return and_(RepoTerm.term >= word, RepoTerm.term < word + TOP)


def _text_condition(session, q: str, sort: str, sqlite: bool):
    """(WHERE clause for free text ``q``, whether to sort the matches rather than walk the sort index).

    The first (longest) word's term rows are counted up to SPARSE_ROWS. A sparse word's matches are
    collected through the term index and sorted: walking the sort index could visit every repo, all
    the more as name words cluster in name order (``user42`` matches a run of names far down the
    alphabet), which no planner's statistics show. A dense word is checked while walking the sort
    index; on SQLite, whose planner cannot weigh that, its matches are still collected and sorted in
    name order, while PostgreSQL's planner picks from its statistics."""
    words = query_words(q)
    if not words:
        return false(), True
    each = [exists().where(and_(RepoTerm.repo_id == Repo.id, _starts_with(w))) for w in words]
    first = select(RepoTerm.repo_id).where(_starts_with(words[0]))
    dense = session.scalar(select(func.count()).select_from(first.limit(SPARSE_ROWS + 1).subquery())) > SPARSE_ROWS
    if dense and (sort != "name" or not sqlite):
        return and_(*each), False
    return and_(Repo.id.in_(first), *each[1:]), True


def search(hub: Hub, who: Principal | None, *, q: str | None = None, tag: str | None = None,
           sort: str = "downloads", limit: int = 20, cursor: str | None = None, **filters: str | None) -> dict:
    if sort not in SORTS:
        raise Invalid(f"invalid sort {sort!r}: use downloads, updated or name")
    if not 1 <= limit <= 100:
        raise Invalid("limit must be between 1 and 100")
    column, descending = SORTS[sort]
    query = select(Repo)
    if who is None:
        query = query.where(Repo.private.is_(False))
    elif not who.is_admin:
        query = query.where(or_(Repo.private.is_(False), Repo.namespace.in_((who.name, *who.orgs))))
    for key, value in filters.items():
        if key not in FILTERS:
            raise Invalid(f"unknown filter {key!r}")
        if value:
            query = query.where(FILTERS[key] == value)
    if tag:
        query = query.where(exists().where(and_(RepoTag.repo_id == Repo.id, RepoTag.tag == tag)))
    if cursor:
        value, last_id = _decode(cursor, sort)
        if descending:
            query = query.where(or_(column < value, and_(column == value, Repo.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, Repo.id > last_id)))
    with hub.db.read() as s:
        if q:
            condition, sparse = _text_condition(s, q, sort, hub.db.is_sqlite)
            query = query.where(condition)
            if sparse:  # sort the few matches; walking the sort index would visit every repo
                column = (column + 0) if sort == "downloads" else column.op("||")("") if sort == "name" else column
        order = (column.desc(), Repo.id.desc()) if descending else (column.asc(), Repo.id.asc())
        rows = s.scalars(query.order_by(*order).limit(limit + 1)).all()
    from .views import repo_json

    items = rows[:limit]
    next_cursor = _encode(getattr(items[-1], SORTS[sort][0].key), items[-1].id) if len(rows) > limit else None
    return {"items": [repo_json(r) for r in items], "next_cursor": next_cursor}

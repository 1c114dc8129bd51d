"""Repository search: indexed filters, three sort orders and keyset (cursor) pagination,
so a page costs the same at row 100,000 as at row 0."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, exists, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased

from ..db.models import Repo, RepoTag, RepoTerm
from ..errors import Invalid
from . import search_verified
from .auth import Principal
from .context import Hub
from .search_terms import TOP, query_words

# A query word with at most this many term rows is "rare": its repo ids are read first and the page
# is sorted from them. A common word is cheaper to check row by row while walking the sort order.
SPARSE_ROWS = 5000
# When every word is common, the first WALK_ROWS rows of the sort order are checked; a page not
# filled from them is completed by sorting the matches after them (the words cluster further on).
WALK_ROWS = 2000
# Candidates checked at once in name order (ids bound one by one: SQLite's variable limit is far above).
MAX_BATCH = 3200

SORTS = {
    "downloads": (Repo.downloads, True),
    "likes": (Repo.likes, True),
    "updated": (Repo.updated_at, True),
    "name": (Repo.full_name, False),
}
# fingerprint: the base a repo is pinned to; model_fingerprint: a base repo's own weights
FILTERS = {
    "namespace": Repo.namespace,
    "kind": Repo.kind,
    "base": Repo.base_id,
    "fingerprint": Repo.base_fingerprint,
    "model_fingerprint": Repo.fingerprint,
    "method": Repo.method,
    "task": Repo.task,
    "license": Repo.license,
}


def _encode(value: Any, repo_id: int) -> str:
    raw = json.dumps([value.isoformat() if hasattr(value, "isoformat") else value, repo_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


_MAX_ID = 2**63 - 1
_CURSOR_VALUE = {"downloads": int, "likes": int, "name": str, "updated": str}


def _decode(cursor: str, sort: str) -> tuple[Any, int]:
    """The cursor's (sort value, repo id); anything not made by ``_encode`` for this sort is a 400."""
    try:
        if len(cursor) > 1000:
            raise ValueError
        value, repo_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort.startswith(search_verified.PREFIX):
            if type(repo_id) is not int or not 0 <= repo_id <= _MAX_ID:
                raise ValueError
            return search_verified.cursor_value(value), repo_id
        kind = _CURSOR_VALUE[sort]
        if (
            type(repo_id) is not int
            or not 0 <= repo_id <= _MAX_ID
            or type(value) is not kind
            or (kind is int and not -_MAX_ID <= value <= _MAX_ID)
            or (kind is str and len(value) > 300)
        ):
            raise ValueError
        if sort == "updated":
            from datetime import datetime

            value = datetime.fromisoformat(value)
        return value, repo_id
    except (ValueError, TypeError, UnicodeError):
        raise Invalid("invalid cursor") from None


def _after(column, descending: bool, value: Any, last_id: int):
    """Rows after the given one in sort order (a cursor). A row-value comparison: the sort index
    seeks to it, and PostgreSQL estimates it from the sort column's statistics."""
    row, at = tuple_(column, Repo.id), tuple_(literal(value, column.type), literal(last_id))
    return row < at if descending else row > at


def _before_or_at(column, descending: bool, value: Any, last_id: int):
    """Rows up to and including the given one in sort order: the end of a bounded walk."""
    row, at = tuple_(column, Repo.id), tuple_(literal(value, column.type), literal(last_id))
    return row >= at if descending else row <= at


def _order(column, descending: bool, repo_id=Repo.id) -> tuple:
    return (column.desc(), repo_id.desc()) if descending else (column.asc(), repo_id.asc())


def _starts_with(word: str):
    return and_(RepoTerm.term >= word, RepoTerm.term < word + TOP)


def _rare(session, word: str) -> bool:
    """Whether the word's term rows stop within SPARSE_ROWS (an ordered walk of the key, no count)."""
    probe = select(RepoTerm.repo_id).where(_starts_with(word)).order_by(RepoTerm.term, RepoTerm.repo_id)
    return session.scalar(probe.offset(SPARSE_ROWS).limit(1)) is None


def _repos_of(session, word: str):
    """A WHERE clause for the repos having a term that starts with ``word`` (a rare word). PostgreSQL
    gets the ids as one array, which it looks up by key: given the subquery it may hash-join a scan of
    every repo, as its estimate of the word's rows can be off."""
    ids = select(RepoTerm.repo_id).where(_starts_with(word))
    if session.get_bind().dialect.name != "postgresql":
        return Repo.id.in_(ids)
    return Repo.id == any_(bindparam("ids", sorted(set(session.scalars(ids))), type_=ARRAY(Integer)))


def _sorted_page(session, query, column, descending: bool, page: int) -> list[Repo]:
    """Sort the rows of ``query`` (few) rather than walk the sort index: OFFSET 0 keeps every
    planner from merging the derived table into a walk of the sort order."""
    rows = aliased(Repo, query.offset(0).subquery())
    return list(
        session.scalars(select(rows).order_by(*_order(getattr(rows, column.key), descending, rows.id)).limit(page))
    )


def _text_page(session, query, q: str, sort: str, page: int, start: tuple = ()) -> list[Repo]:
    """Up to ``page`` repos of ``query`` whose terms start with every word of ``q``, in sort order
    (``start``: the cursor's condition, already part of ``query``).

    No planner is trusted to choose: neither SQLite's nor PostgreSQL's statistics tell how a word's
    repos are spread along a sort order (name words cluster in name order). A rare word drives: its
    repos are read through the term index and sorted. Common words are checked along the sort order,
    at most WALK_ROWS rows; matches beyond them, if the page needs any, are sorted — or, in name order,
    read already sorted from the term index (``_in_name_order``)."""
    words = query_words(q)
    if not words:
        return []
    column, descending = SORTS[sort]
    has = {w: exists().where(and_(RepoTerm.repo_id == Repo.id, _starts_with(w))) for w in words}
    rare = next((w for w in words if _rare(session, w)), None)
    if rare is not None:
        others = [has[w] for w in words if w != rare]
        return _sorted_page(session, query.where(_repos_of(session, rare), *others), column, descending, page)
    order = _order(column, descending)
    # Where the walk stops: WALK_ROWS rows on from the cursor in the bare sort index (any split point
    # is correct; one without the filters costs the same whatever they are).
    edge = session.execute(
        select(column, Repo.id).where(*start).order_by(*order).offset(WALK_ROWS - 1).limit(1)
    ).first()
    walk = query.where(*has.values())
    if edge is not None:
        walk = walk.where(_before_or_at(column, descending, *edge))
    rows = list(session.scalars(walk.order_by(*order).limit(page)))
    if len(rows) == page or edge is None:
        return rows  # a full page, or the walk reached the end of the sort order
    if sort == "name":
        return rows + _in_name_order(session, query, words, has, tuple(edge), page - len(rows))
    rest = query.where(
        _after(column, descending, *edge),
        Repo.id.in_(select(RepoTerm.repo_id).where(_starts_with(words[0]))),
        *(has[w] for w in words[1:]),
    )
    return rows + _sorted_page(session, rest, column, descending, page - len(rows))


def _in_name_order(session, query, words: list[str], has: dict, after: tuple, wanted: int) -> list[Repo]:
    """Up to ``wanted`` repos of ``query`` after ``after`` in name order having every word, read from
    the term index: term rows carry the full name, so the first word's repos come out of one index
    range already sorted, without reading a repo row. Each batch of candidates is checked against the
    whole query (visibility, filters, the other words); a batch that leaves the page short is followed
    by a larger one (up to MAX_BATCH) from where it stopped."""
    found: list[Repo] = []
    batch = max(2 * wanted, 50)
    while True:
        candidates = session.execute(
            select(RepoTerm.repo_id, RepoTerm.full_name)
            .where(
                _starts_with(words[0]),
                tuple_(RepoTerm.full_name, RepoTerm.repo_id)
                > tuple_(literal(after[0], RepoTerm.full_name.type), literal(after[1])),
            )
            .order_by(RepoTerm.full_name, RepoTerm.repo_id)
            .limit(batch)
        ).all()
        if not candidates:
            return found
        ids = list(dict.fromkeys(repo_id for repo_id, _ in candidates))  # a repo with two such terms
        found += session.scalars(
            query.where(Repo.id.in_(ids), *(has[w] for w in words[1:])).order_by(*_order(Repo.full_name, False))
        ).all()
        if len(found) >= wanted or len(candidates) < batch:
            return found[:wanted]
        after, batch = (candidates[-1][1], candidates[-1][0]), min(batch * 4, MAX_BATCH)


def _visible(query, who: Principal | None):
    if who is None:
        return query.where(Repo.private.is_(False))
    if not who.is_admin:
        return query.where(or_(Repo.private.is_(False), Repo.namespace.in_((who.name, *who.orgs))))
    return query


def top_bases(hub: Hub, who: Principal | None, limit: int = 8) -> list[dict]:
    """The base fingerprints most adapters are pinned to: ``{"base_id", "fingerprint", "adapters"}``."""
    count = func.count(Repo.id)
    query = (
        _visible(select(Repo.base_fingerprint, func.max(Repo.base_id), count), who)
        .where(Repo.kind == "adapter", Repo.base_fingerprint.is_not(None))
        .group_by(Repo.base_fingerprint)
    )
    with hub.db.read() as s:
        rows = s.execute(query.order_by(count.desc(), Repo.base_fingerprint).limit(limit)).all()
    return [{"fingerprint": fp, "base_id": base_id, "adapters": n} for fp, base_id, n in rows]


def search(
    hub: Hub,
    who: Principal | None,
    *,
    q: str | None = None,
    tag: str | None = None,
    sort: str = "downloads",
    limit: int = 20,
    cursor: str | None = None,
    verified: bool = False,
    **filters: str | None,
) -> dict:
    """One page of repo objects and the cursor of the next page (None on the last). ``verified``: only repos
    with a verified result; sort ``verified:<metric>``: by the best verified value, shown as ``verified``."""
    from .views import repo_json

    rows, next_cursor = search_rows(
        hub, who, q=q, tags=[tag] if tag else [], sort=sort, limit=limit, cursor=cursor, verified=verified, **filters
    )
    items = [repo_json(r) for r in rows]
    metric = search_verified.metric_of(sort)
    if metric and rows:
        with hub.db.read() as s:
            values = search_verified.best_values(s, metric, [r.id for r in rows], who)
        for item, row in zip(items, rows, strict=True):
            item["verified"] = {"metric": metric, "value": values.get(row.id)}
    return {"items": items, "next_cursor": next_cursor}


def check_bounds(hub: Hub, q: str | None, tags: list[str] | tuple = ()) -> None:
    """Bounded work per search: at most ``HUB_SEARCH_MAX_FILTERS`` tags (one EXISTS each) and
    ``HUB_SEARCH_MAX_QUERY_CHARS`` characters of text; more is a one-line 400."""
    settings = hub.settings
    if len(set(tags)) > settings.search_max_filters:
        raise Invalid(f"too many tag filters ({len(set(tags))}); at most {settings.search_max_filters}")
    if q and len(q) > settings.search_max_query_chars:
        raise Invalid(f"search text longer than {settings.search_max_query_chars} characters")


def search_rows(
    hub: Hub,
    who: Principal | None,
    *,
    q: str | None = None,
    tags: list[str] = (),
    sort: str = "downloads",
    limit: int = 20,
    cursor: str | None = None,
    not_kind: str | None = None,
    verified: bool = False,
    **filters: str | None,
) -> tuple[list[Repo], str | None]:
    """``search`` as repo rows (every tag in ``tags`` required; none of kind ``not_kind``, so the HF
    model list leaves datasets out): the HF view renders its own shape."""
    metric = search_verified.metric_of(sort)
    if sort not in SORTS and metric is None:
        raise Invalid(f"invalid sort {sort[:60]!r}: use downloads, likes, updated, name or verified:<metric>")
    if not 1 <= limit <= 100:
        raise Invalid("limit must be between 1 and 100")
    check_bounds(hub, q, tags)
    query = _visible(select(Repo), who)
    for key, value in filters.items():
        if key not in FILTERS:
            raise Invalid(f"unknown filter {key!r}")
        if value:
            query = query.where(FILTERS[key] == value)
    if not_kind:
        query = query.where(Repo.kind != not_kind)
    for tag in dict.fromkeys(tags):
        query = query.where(exists().where(and_(RepoTag.repo_id == Repo.id, RepoTag.tag == tag)))
    if verified:
        query = query.where(search_verified.has_verified(who))
    if metric is not None:
        after = _decode(cursor, sort) if cursor else None
        with hub.db.read() as s:
            items, last = search_verified.rows(s, query, metric, q, limit, after, who)
        return items, _encode(*last) if last else None
    column, descending = SORTS[sort]
    start = (_after(column, descending, *_decode(cursor, sort)),) if cursor else ()
    query = query.where(*start)
    with hub.db.read() as s:
        if q:
            rows = _text_page(s, query, q, sort, limit + 1, start)
        else:
            rows = s.scalars(query.order_by(*_order(column, descending)).limit(limit + 1)).all()
    items = list(rows[:limit])
    next_cursor = _encode(getattr(items[-1], SORTS[sort][0].key), items[-1].id) if len(rows) > limit else None
    return items, next_cursor

"""Search by what the hub measured: ``verified`` keeps repos with a verified result (a ``done`` evaluation
of a live, un-yanked version), and sort ``verified:<metric>`` orders them by their best verified value of
that metric (on any eval set the caller may see; lower first for perplexity), with the same keyset cursors as
the other sorts.
Kept apart from ``search.py`` because its order is a computed value, not a column of the repo row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, literal, select, tuple_

from hub_rules import METRICS
from hub_rules.eval_index import LOWER_IS_BETTER

from ..db.models import Evaluation, Repo, RepoTerm, Version
from ..errors import Invalid
from .auth import Principal
from .eval_visibility import dataset_visible
from .search_terms import TOP, query_words

PREFIX = "verified:"


def _live_done(who: Principal | None):
    """Verified results of live, un-yanked versions, on eval sets ``who`` may see (``eval_visibility``)."""
    return (
        select(Evaluation.repo_id)
        .join(Version, Version.id == Evaluation.version_id)
        .where(
            Evaluation.status == "done",
            Version.deleted.is_(False),
            Version.yanked.is_(False),
            dataset_visible(who),
        )
    )


def has_verified(who: Principal | None):
    """A WHERE clause: the repo has at least one verified result ``who`` may see."""
    return exists(_live_done(who).where(Evaluation.repo_id == Repo.id))


def metric_of(sort: str) -> str | None:
    """The metric of a ``verified:<metric>`` sort, None for the other sorts; an unknown metric is a 400."""
    if not sort.startswith(PREFIX):
        return None
    metric = sort[len(PREFIX) :]
    if metric not in METRICS:
        raise Invalid(f"invalid sort {sort[:60]!r}: verified sorts are " + ", ".join(PREFIX + m for m in METRICS))
    return metric


def _best(metric: str, who: Principal | None):
    value = func.min(Evaluation.value) if metric in LOWER_IS_BETTER else func.max(Evaluation.value)
    return (
        _live_done(who)
        .add_columns(value.label("value"))
        .where(Evaluation.metric == metric)
        .group_by(Evaluation.repo_id)
        .subquery()
    )


def best_values(session, metric: str, repo_ids: list[int], who: Principal | None) -> dict[int, float]:
    best = _best(metric, who)
    return dict(session.execute(select(best.c.repo_id, best.c.value).where(best.c.repo_id.in_(repo_ids))).all())


def rows(
    session,
    query,
    metric: str,
    q: str | None,
    limit: int,
    after: tuple[float, int] | None,
    who: Principal | None,
) -> tuple[list[Repo], tuple[float, int] | None]:
    """Up to ``limit`` repos of ``query`` (visibility and filters applied) in verified order, and where the
    next page starts. Text words are each an EXISTS on the term index: the verified repos are few."""
    best = _best(metric, who)
    ascending = metric in LOWER_IS_BETTER
    query = query.add_columns(best.c.value).join(best, best.c.repo_id == Repo.id)
    for word in query_words(q or ""):
        query = query.where(
            exists().where(and_(RepoTerm.repo_id == Repo.id, RepoTerm.term >= word, RepoTerm.term < word + TOP))
        )
    if after is not None:
        row, at = tuple_(best.c.value, Repo.id), tuple_(literal(after[0]), literal(after[1]))
        query = query.where(row > at if ascending else row < at)
    order = (best.c.value.asc(), Repo.id.asc()) if ascending else (best.c.value.desc(), Repo.id.desc())
    found = session.execute(query.order_by(*order).limit(limit + 1)).all()
    items = [repo for repo, _ in found[:limit]]
    last = found[limit - 1] if len(found) > limit else None
    return items, (float(last[1]), last[0].id) if last is not None else None


def cursor_value(value: Any) -> float:
    if type(value) not in (int, float):
        raise ValueError
    return float(value)

"""Per-base leaderboards: verified results on one eval set, of adapters pinned to one base fingerprint,
best first (lowest first for ``LOWER_IS_BETTER`` metrics: perplexity). Only ``done`` results of live, un-yanked
versions of repos the caller may see, on an eval set the caller may see (``eval_visibility``); one line per
repo and metric (its best version). Claims (``reported``) are shown, never ranked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub_rules import METRICS, is_repo_id
from hub_rules.eval_index import LOWER_IS_BETTER

from ..db.models import Evaluation, Repo, Version
from ..errors import Invalid
from .auth import Principal, can_see
from .context import Hub
from .eval_visibility import hidden_datasets

MAX_ROWS = 1000


def _dataset(text: str) -> tuple[str, str | None]:
    name, _, revision = text.partition("@")
    if not is_repo_id(name):
        raise Invalid(f"dataset must be ns/name or ns/name@version, got {text[:80]!r}")
    return name, revision or None


def board(
    hub: Hub,
    who: Principal | None,
    *,
    base: str | None,
    dataset: str,
    metric: str | None = None,
    repo_filter: Any = None,
) -> list[dict[str, Any]]:
    """``base``: a fingerprint (``sha256:...``) or None for every base (the HF dataset leaderboard)."""
    name, revision = _dataset(dataset)
    if metric is not None and metric not in METRICS:
        raise Invalid(f"metric must be one of {', '.join(METRICS)}")
    if base is not None and not base.startswith("sha256:"):
        raise Invalid("base must be a base fingerprint, sha256:<hex>")
    query = (
        select(Evaluation, Repo, Version)
        .join(Repo, Repo.id == Evaluation.repo_id)
        .join(Version, Version.id == Evaluation.version_id)
        .where(
            Evaluation.status == "done",
            Evaluation.dataset == name,
            Version.deleted.is_(False),
            Version.yanked.is_(False),
        )
    )
    if base is not None:
        query = query.where(Evaluation.base_fingerprint == base)
    if revision is not None:
        query = query.where(Evaluation.dataset_revision == revision)
    if metric is not None:
        query = query.where(Evaluation.metric == metric)
    best: dict[tuple[int, str], tuple[Evaluation, Repo, Version]] = {}
    with hub.db.read() as s:
        if hidden_datasets(s, who, [name]):
            return []  # a private eval set the caller may not see: as if nothing were measured on it
        for row, repo, version in s.execute(query.limit(MAX_ROWS * 10)).all():
            if not can_see(who, repo) or (repo_filter is not None and not repo_filter(repo)):
                continue
            key = (repo.id, row.metric)
            held = best.get(key)
            if held is None or _better(row, held[0]):
                best[key] = (row, repo, version)
    ranked = sorted(best.values(), key=lambda t: (t[0].metric, _rank(t[0]), t[1].namespace, t[1].name))
    return [
        {
            "repo": f"{repo.namespace}/{repo.name}",
            "version": row.version,
            "metric": row.metric,
            "value": row.value,
            "reported": row.reported,
            "dataset": f"{row.dataset}@{row.dataset_revision}",
            "split": row.split,
            "base": row.base_fingerprint,
            "n": row.n,
        }
        for row, repo, _ in ranked[:MAX_ROWS]
    ]


def _rank(row: Evaluation) -> float:
    value = float(row.value or 0.0)
    return value if row.metric in LOWER_IS_BETTER else -value


def _better(row: Evaluation, held: Evaluation) -> bool:
    return _rank(row) < _rank(held)


def boards_for_base(hub: Hub, who: Principal | None, base: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every eval set with a verified result for adapters pinned to ``base``: (dataset, its board), by name."""
    if not base.startswith("sha256:"):
        return []
    with hub.db.read() as s:
        names = s.scalars(
            select(Evaluation.dataset)
            .where(Evaluation.status == "done", Evaluation.base_fingerprint == base)
            .distinct()
            .order_by(Evaluation.dataset)
            .limit(50)
        ).all()
    boards = [(name, board(hub, who, base=base, dataset=name)) for name in names]
    return [(name, rows) for name, rows in boards if rows]

"""Who may see a verified result: whoever may see both the adapter and the eval set it was measured on. A
private adapter's results are hidden with the adapter (its routes answer 404); a private eval set's results
are hidden from those who cannot see the eval set, on every list that shows results (a repo's evaluations,
``evalResults``, leaderboards, the site, ``verified`` search), so its numbers do not leak through a public
adapter. The eval set's name may still appear in a public card: its owner's publisher wrote it there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, func, select, true
from sqlalchemy.orm import Session, aliased

from ..db.models import Evaluation, Repo
from .auth import Principal


def hidden_datasets(session: Session, who: Principal | None, names: Iterable[str]) -> set[str]:
    """The eval sets among ``names`` (``ns/name`` as declared) that are private repos ``who`` may not see."""
    wanted = set(names)
    if not wanted or (who is not None and who.is_admin):
        return set()
    private = session.execute(
        select(Repo.full_name, Repo.namespace).where(
            Repo.full_name.in_({n.lower() for n in wanted}), Repo.private.is_(True)
        )
    ).all()
    hidden = {full for full, namespace in private if who is None or not who.owns(namespace)}
    return {n for n in wanted if n.lower() in hidden}


def dataset_visible(who: Principal | None) -> Any:
    """A WHERE clause on ``Evaluation``: its eval set is not a private repo hidden from ``who``."""
    if who is not None and who.is_admin:
        return true()
    dataset = aliased(Repo)
    hidden = select(dataset.id).where(dataset.private.is_(True), dataset.full_name == func.lower(Evaluation.dataset))
    if who is not None:
        hidden = hidden.where(dataset.namespace.not_in((who.name, *who.orgs)))
    return ~exists(hidden)

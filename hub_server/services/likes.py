"""Likes: one per user per repo, toggled; ``Repo.likes`` is kept equal to the rows in the
same transaction, so sorting by likes walks an index instead of counting."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db.models import Like, Repo
from .auth import Principal, require_user
from .context import Hub
from .repos import find_repo


def toggle_like(hub: Hub, who: Principal | None, namespace: str, name: str) -> tuple[bool, int]:
    """Like the repo, or take the like back; return (liked now, count)."""
    who = require_user(who)
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        row = s.get(Like, (who.user_id, repo.id))
        if row is None:
            s.add(Like(user_id=who.user_id, repo_id=repo.id))
            delta = 1
        else:
            s.delete(row)
            delta = -1
        s.flush()
        s.execute(update(Repo).where(Repo.id == repo.id).values(likes=Repo.likes + delta))
        count = s.scalar(select(Repo.likes).where(Repo.id == repo.id))
    return delta > 0, int(count or 0)


def likes_of(session: Session, who: Principal | None, repo_id: int) -> bool:
    """Whether ``who`` likes the repo."""
    return who is not None and session.get(Like, (who.user_id, repo_id)) is not None

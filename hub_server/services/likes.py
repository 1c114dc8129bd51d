"""Likes: one per user per repo, toggled; ``Repo.likes`` is kept equal to the rows in the
same transaction, so sorting by likes walks an index instead of counting."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db.models import Like, Repo, User
from ..errors import NotFound
from .auth import Principal, can_see, require_user
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


def set_like(hub: Hub, who: Principal | None, namespace: str, name: str, liked: bool) -> None:
    """Like (``liked``) or unlike the repo; doing it twice changes nothing (HF's like/unlike)."""
    who = require_user(who)
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        row = s.get(Like, (who.user_id, repo.id))
        if (row is None) != liked:
            return
        if row is None:
            s.add(Like(user_id=who.user_id, repo_id=repo.id))
        else:
            s.delete(row)
        s.flush()
        s.execute(update(Repo).where(Repo.id == repo.id).values(likes=Repo.likes + (1 if liked else -1)))


def likes_of(session: Session, who: Principal | None, repo_id: int) -> bool:
    """Whether ``who`` likes the repo."""
    return who is not None and session.get(Like, (who.user_id, repo_id)) is not None


MAX_LISTED = 10_000


def liked_by(hub: Hub, who: Principal | None, user: str) -> list[tuple[Repo, object]]:
    """``(repo, liked_at)`` of the repos ``user`` likes that ``who`` may see, newest like first."""
    with hub.db.read() as s:
        user_id = s.scalar(select(User.id).where(User.name == user))
        if user_id is None:
            raise NotFound(f"no user {user[:100]!r}")
        rows = s.execute(
            select(Repo, Like.created_at)
            .join(Like, Like.repo_id == Repo.id)
            .where(Like.user_id == user_id)
            .order_by(Like.created_at.desc())
            .limit(MAX_LISTED)
        ).all()
    return [(repo, at) for repo, at in rows if can_see(who, repo)]

"""Discussions and pull requests of a repo: one service for the HF routes and the site's
Community tab. Numbers are per repo, one sequence for both kinds (as on the HF Hub).

Rights: anyone signed in (write-scope token or browser session) who can see the repo may open a
discussion or pull request and comment; the author or the repo's owners may rename it, close or
reopen it; only a comment's author edits it, its author or the owners hide it; only the owners
merge (``pr_merge``). Private repos stay 404 to outsiders on every path. Titles and comments are
bounded (``MAX_TITLE_CHARS``, ``MAX_COMMENT_CHARS``): longer ones are refused with one line.
"""

from __future__ import annotations

import json
import secrets

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import Discussion, DiscussionEvent, Repo, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from . import refs, webhook_events
from .auth import Principal, require_user, require_write
from .context import Hub
from .repos import find_repo

MAX_TITLE_CHARS = 200
MAX_COMMENT_CHARS = 65_536
PAGE = 50
STATUS_FILTERS = {"all": None, "open": ("open", "draft"), "closed": ("closed", "merged")}
TYPE_FILTERS = {"all": None, "discussion": False, "pull_request": True}


def check_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise Invalid("a title is required")
    title = title.strip()
    if len(title) > MAX_TITLE_CHARS:
        raise TooLarge(f"the title is longer than the limit of {MAX_TITLE_CHARS} characters")
    if "\x00" in title or "\n" in title:
        raise Invalid("a title is one line of text")
    return title


def check_comment(text: object, *, required: bool = True) -> str:
    if not isinstance(text, str) or (required and not text.strip()):
        raise Invalid("a comment needs some text")
    if len(text) > MAX_COMMENT_CHARS:
        raise TooLarge(f"the comment is longer than the limit of {MAX_COMMENT_CHARS} characters")
    if "\x00" in text:
        raise Invalid("NUL characters are not allowed in a comment")
    return text


def find(session: Session, repo: Repo, num: int) -> Discussion:
    if not 0 < num < 2**31:  # beyond the column's range: no such discussion, never a database error
        raise NotFound(f"discussion #{num} of {repo.namespace}/{repo.name} not found")
    row = session.scalar(select(Discussion).where(Discussion.repo_id == repo.id, Discussion.num == num))
    if row is None:
        raise NotFound(f"discussion #{num} of {repo.namespace}/{repo.name} not found")
    return row


ANNOUNCED = {  # timeline kind → webhook (action, scope); a commit is announced as its ref's move
    "comment": ("create", "discussion.comment"),
    "status-change": ("update", "discussion"),
    "title-change": ("update", "discussion"),
}


def add_event(
    session: Session,
    discussion: Discussion,
    kind: str,
    author: str,
    *,
    content: str = "",
    data: dict | None = None,
    announce: bool = True,
) -> DiscussionEvent:
    """One timeline entry; comments, status and title changes are webhook events (``announce``)."""
    now = utcnow()
    event = DiscussionEvent(
        discussion_id=discussion.id,
        event_id=secrets.token_hex(12),
        kind=kind,
        author=author,
        created_at=now,
        updated_at=now,
        content=content,
        data_json=json.dumps(data or {}),
        edited=False,
        hidden=False,
    )
    session.add(event)
    discussion.updated_at = now
    session.flush()
    if announce and kind in ANNOUNCED:
        action, scope = ANNOUNCED[kind]
        webhook_events.discussion_changed(session, discussion, action, scope, event if kind == "comment" else None)
    return event


def open_discussion(
    session: Session,
    repo: Repo,
    author: str,
    title: str,
    description: str,
    *,
    pull_request: bool,
    status: str = "open",
    target: str | None = None,
    base_commit: str | None = None,
) -> Discussion:
    """Number and store a discussion with its first comment (the description) in ``session``.
    The unique (repo, num) pair makes a concurrent opener fail; ``create`` retries it."""
    title = check_title(title)
    description = check_comment(description or "", required=False)
    num = (session.scalar(select(func.max(Discussion.num)).where(Discussion.repo_id == repo.id)) or 0) + 1
    now = utcnow()
    row = Discussion(
        repo_id=repo.id,
        num=num,
        author=author,
        title=title,
        is_pull_request=pull_request,
        status=status,
        target_branch=target if pull_request else None,
        base_commit=base_commit,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    first = add_event(session, row, "comment", author, content=description, announce=False)
    webhook_events.discussion_changed(session, row, "create", "discussion", first)
    return row


def create(
    hub: Hub, who: Principal | None, namespace: str, name: str, title: object, description: object, pull_request: bool
) -> Discussion:
    """``create_discussion``; a pull request opened this way is an empty draft on ``main``'s head."""
    who = require_write(require_user(who))
    title = check_title(title)
    description = check_comment(description if description is not None else "", required=False)
    for attempt in range(5):
        try:
            with hub.db.write() as s:
                repo = find_repo(s, who, namespace, name)
                if not pull_request:
                    return open_discussion(s, repo, who.name, title, description, pull_request=False)
                head = refs.branch_head(s, repo, "main")
                kept = (
                    refs.keep_snapshot(s, repo, head)
                    if head is not None
                    else refs.store_commit(s, repo, {}, parent=None, author=who.name, message="")
                )
                row = open_discussion(
                    s,
                    repo,
                    who.name,
                    title,
                    description,
                    pull_request=True,
                    status="draft",
                    target="main",
                    base_commit=head.commit if head is not None else None,
                )
                refs.set_ref(s, repo, "pr", str(row.num), kept.commit, who.name)
                return row
        except IntegrityError:
            if attempt == 4:
                raise Conflict("too many discussions opened at once; try again") from None
    raise AssertionError("unreachable")


def listing(
    hub: Hub,
    who: Principal | None,
    namespace: str,
    name: str,
    *,
    kind: str = "all",
    status: str = "all",
    author: str | None = None,
    page: int = 0,
    size: int = PAGE,
) -> tuple[Repo, list[Discussion], int]:
    """(repo, one page newest first, total matching) with the filters ``get_repo_discussions`` sends."""
    if kind not in TYPE_FILTERS:
        raise Invalid(f"invalid type {kind[:40]!r}: use all, discussion or pull_request")
    if status not in STATUS_FILTERS:
        raise Invalid(f"invalid status {status[:40]!r}: use all, open or closed")
    if not 0 <= page < 1_000_000:
        raise Invalid("the page number must be between 0 and 999999")
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        query = select(Discussion).where(Discussion.repo_id == repo.id)
        if TYPE_FILTERS[kind] is not None:
            query = query.where(Discussion.is_pull_request.is_(TYPE_FILTERS[kind]))
        if STATUS_FILTERS[status] is not None:
            query = query.where(Discussion.status.in_(STATUS_FILTERS[status]))
        if author:
            query = query.where(Discussion.author == author)
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(s.scalars(query.order_by(Discussion.num.desc()).offset(page * size).limit(size)))
    return repo, rows, total


def comment_counts(hub: Hub, rows: list[Discussion]) -> dict[int, int]:
    if not rows:
        return {}
    with hub.db.read() as s:
        return dict(
            s.execute(
                select(DiscussionEvent.discussion_id, func.count())
                .where(DiscussionEvent.discussion_id.in_([r.id for r in rows]), DiscussionEvent.kind == "comment")
                .group_by(DiscussionEvent.discussion_id)
            ).all()
        )


def details(
    hub: Hub, who: Principal | None, namespace: str, name: str, num: int
) -> tuple[Repo, Discussion, list[DiscussionEvent]]:
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        row = find(s, repo, num)
        events = list(
            s.scalars(
                select(DiscussionEvent).where(DiscussionEvent.discussion_id == row.id).order_by(DiscussionEvent.id)
            )
        )
    return repo, row, events


def _acting(s: Session, who: Principal | None, namespace: str, name: str, num: int) -> tuple[Repo, Discussion]:
    who = require_write(require_user(who))
    repo = find_repo(s, who, namespace, name)
    return repo, find(s, repo, num)


def _author_or_owner(who: Principal, row: Discussion, namespace: str) -> None:
    if who.name != row.author and not who.owns(namespace):
        raise Forbidden(f"{who.name} may not change discussion #{row.num}: only its author or the repo's owners")


def comment(hub: Hub, who: Principal | None, namespace: str, name: str, num: int, text: object) -> DiscussionEvent:
    text = check_comment(text)
    with hub.db.write() as s:
        _, row = _acting(s, who, namespace, name, num)
        return add_event(s, row, "comment", who.name, content=text)


def rename(hub: Hub, who: Principal | None, namespace: str, name: str, num: int, title: object) -> DiscussionEvent:
    title = check_title(title)
    with hub.db.write() as s:
        _, row = _acting(s, who, namespace, name, num)
        _author_or_owner(who, row, namespace)
        old, row.title = row.title, title
        return add_event(s, row, "title-change", who.name, data={"from": old, "to": title})


def set_status(
    hub: Hub, who: Principal | None, namespace: str, name: str, num: int, status: object, text: object = None
) -> DiscussionEvent:
    """Close or (re)open; a merged pull request stays merged. An optional comment comes first."""
    if status not in ("open", "closed"):
        raise Invalid("the status must be 'open' or 'closed'")
    text = check_comment(text, required=False) if text is not None else ""
    with hub.db.write() as s:
        _, row = _acting(s, who, namespace, name, num)
        _author_or_owner(who, row, namespace)
        if row.status == "merged":
            raise Conflict(f"pull request #{num} is merged; its status cannot change")
        if row.status == status:
            raise Conflict(f"discussion #{num} is already {status}")
        if text.strip():
            add_event(s, row, "comment", who.name, content=text)
        row.status = status
        return add_event(s, row, "status-change", who.name, data={"status": status})


def _event(s: Session, row: Discussion, event_id: str) -> DiscussionEvent:
    event = s.scalar(
        select(DiscussionEvent).where(
            DiscussionEvent.discussion_id == row.id, DiscussionEvent.event_id == event_id.lower()[:24]
        )
    )
    if event is None or event.kind != "comment":
        raise NotFound(f"comment {event_id[:40]} not found in discussion #{row.num}")
    return event


def edit_comment(
    hub: Hub, who: Principal | None, namespace: str, name: str, num: int, event_id: str, text: object
) -> DiscussionEvent:
    text = check_comment(text)
    with hub.db.write() as s:
        _, row = _acting(s, who, namespace, name, num)
        event = _event(s, row, event_id)
        if event.author != who.name:
            raise Forbidden(f"{who.name} may not edit a comment of {event.author}")
        if event.hidden:
            raise Conflict("a hidden comment cannot be edited")
        data = json.loads(event.data_json or "{}")
        data.setdefault("history", []).insert(0, {"raw": event.content, "updatedAt": event.updated_at.isoformat()})
        event.content, event.edited, event.updated_at = text, True, utcnow()
        event.data_json = json.dumps(data)
        s.flush()
        webhook_events.discussion_changed(s, row, "update", "discussion.comment", event)
        return event


def hide_comment(
    hub: Hub, who: Principal | None, namespace: str, name: str, num: int, event_id: str
) -> DiscussionEvent:
    """Hide a comment for good (its text is dropped): its author or the repo's owners."""
    with hub.db.write() as s:
        _, row = _acting(s, who, namespace, name, num)
        event = _event(s, row, event_id)
        if event.author != who.name and not who.owns(namespace):
            raise Forbidden(f"{who.name} may not hide a comment of {event.author}")
        event.hidden, event.content, event.data_json, event.updated_at = True, "", "{}", utcnow()
        s.flush()
        webhook_events.discussion_changed(s, row, "update", "discussion.comment", event)
        return event


def repos_with_open(hub: Hub, repo_ids: list[int]) -> dict[int, int]:
    """Open discussions per repo (the count on the Community tab)."""
    with hub.db.read() as s:
        return dict(
            s.execute(
                select(Discussion.repo_id, func.count())
                .where(Discussion.repo_id.in_(repo_ids), or_(Discussion.status == "open", Discussion.status == "draft"))
                .group_by(Discussion.repo_id)
            ).all()
        )

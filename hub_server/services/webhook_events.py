"""Events for webhooks, recorded inside the transaction of the change they announce (a rolled-back change
announces nothing): one pending delivery per enabled webhook that watches the repo or its namespace, in
the event's domain (``repo`` or ``discussion``), whose owner may see the repo. Once the transaction commits
the new deliveries are handed to the queue (``webhook_deliveries.install``); the hub's delivery loop sends
any that did not reach it.

Events (HF's ``action``/``scope``): ``update``/``repo.content`` for a published version (native, HF commit,
merged pull request), a yank, a deleted version and any moved branch, tag or pull-request ref;
``create``/``repo``, ``delete``/``repo``, ``move``/``repo`` and ``update``/``repo.config`` (visibility);
``create``/``discussion`` (with its first comment), ``update``/``discussion`` (status, title),
``create``/``discussion.comment`` and ``update``/``discussion.comment`` (edited, hidden); and
``update``/``repo.evaluation`` when a verified evaluation is done or has failed for good."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..db.models import (
    Discussion,
    DiscussionEvent,
    Org,
    OrgMember,
    Repo,
    User,
    Version,
    Webhook,
    WebhookDelivery,
    WebhookWatch,
    utcnow,
)
from ..request_context import current_public_base
from . import webhook_payloads as payloads

NEW_DELIVERIES = "hub_new_webhook_deliveries"  # key in ``session.info``: ids to queue after the commit
PAYLOAD_VERSION = 3


def _watching(session: Session, repo: Repo, domain: str) -> list[Webhook]:
    namespace = repo.namespace.lower()
    rows = session.execute(
        select(Webhook, User.name)
        .join(WebhookWatch, WebhookWatch.webhook_id == Webhook.id)
        .join(User, User.id == Webhook.user_id)
        .where(
            Webhook.disabled.is_(False),
            or_(
                and_(WebhookWatch.type.in_(("user", "org")), WebhookWatch.key == namespace),
                and_(WebhookWatch.type == payloads.repo_type(repo), WebhookWatch.key == repo.full_name),
            ),
        )
    ).all()
    hooks: dict[str, tuple[Webhook, str]] = {}
    for hook, owner in rows:
        if domain in json.loads(hook.domains_json or "[]"):
            hooks[hook.id] = (hook, owner)
    if not hooks or not repo.private:
        return [hook for hook, _ in hooks.values()]
    members = set(
        session.scalars(
            select(OrgMember.user_id)
            .join(Org, Org.id == OrgMember.org_id)
            .where(func.lower(Org.name) == namespace, OrgMember.user_id.in_({h.user_id for h, _ in hooks.values()}))
        )
    )
    return [hook for hook, owner in hooks.values() if owner.lower() == namespace or hook.user_id in members]


def _record(session: Session, repo: Repo, action: str, scope: str, parts: dict[str, Any]) -> list[str]:
    hooks = _watching(session, repo, scope.split(".", 1)[0])
    if not hooks:
        return []
    base = current_public_base() or ""
    event = {"event": {"action": action, "scope": scope}, "repo": payloads.repo_json(session, repo, base)}
    event.update({key: value(base) if callable(value) else value for key, value in parts.items()})
    now = utcnow()
    ids = []
    for hook in hooks:
        body = {**event, "webhook": {"id": hook.id, "version": PAYLOAD_VERSION}}
        row = WebhookDelivery(
            id=uuid.uuid4().hex,
            webhook_id=hook.id,
            action=action,
            scope=scope,
            repo=f"{repo.namespace}/{repo.name}",
            payload_json=json.dumps(body, separators=(",", ":"), default=str),
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
            sent_at=now,  # queued right after the commit; the delivery loop resends it if that failed
        )
        session.add(row)
        ids.append(row.id)
    session.info.setdefault(NEW_DELIVERIES, []).extend(ids)
    return ids


def repo_content(
    session: Session, repo: Repo, updated: list[dict[str, Any]], version: Version | None = None
) -> list[str]:
    """``update``/``repo.content``: files changed on ``main`` (a version) or on another ref."""
    parts: dict[str, Any] = {"updatedRefs": updated}
    if version is not None:
        parts["version"] = payloads.version_json(version)
    return _record(session, repo, "update", "repo.content", parts)


def version_changed(session: Session, repo: Repo, version: Version, old_head: str | None) -> list[str]:
    """A version published (its tag appears), yanked or deleted (its tag goes), and ``main`` when its
    head moved; call it after the change, with ``main``'s head from before it."""
    new_head = payloads.main_head(session, repo)
    updated = []
    if new_head != old_head:
        updated.append(payloads.ref_update("refs/heads/main", old_head, new_head))
    if version.deleted:
        updated.append(payloads.ref_update(f"refs/tags/{version.version}", version.commit, None))
    elif not version.yanked:
        updated.append(payloads.ref_update(f"refs/tags/{version.version}", None, version.commit))
    return repo_content(session, repo, updated, version)


def ref_moved(session: Session, repo: Repo, ref: str, old: str | None, new: str | None) -> list[str]:
    return repo_content(session, repo, [payloads.ref_update(ref, old, new)])


def repo_changed(
    session: Session, repo: Repo, action: str, scope: str = "repo", moved_to: str | None = None
) -> list[str]:
    """``create``, ``delete``, ``move`` (``moved_to``: the new ``namespace/name``) or ``update`` of ``repo``."""
    parts: dict[str, Any] = {}
    if moved_to is not None:
        parts["movedTo"] = {"name": moved_to, "owner": {"id": moved_to.split("/", 1)[0]}}
    return _record(session, repo, action, scope, parts)


def discussion_changed(
    session: Session, row: Discussion, action: str, scope: str, comment: DiscussionEvent | None = None
) -> list[str]:
    repo = session.get(Repo, row.repo_id)
    if repo is None:
        return []

    def discussion(base: str) -> dict[str, Any]:
        return payloads.discussion_json(repo, row, base)

    parts: dict[str, Any] = {"discussion": discussion}
    if comment is not None:
        event = comment
        parts["comment"] = lambda base: payloads.comment_json(discussion(base), event)
    return _record(session, repo, action, scope, parts)


def evaluation_recorded(session: Session, repo: Repo, evaluation: dict[str, Any]) -> list[str]:
    """``update``/``repo.evaluation``: a verified evaluation is done (or failed for good)."""
    return _record(session, repo, "update", "repo.evaluation", {"evaluation": evaluation})

"""A user's webhooks, in the shape of HF's ``/api/settings/webhooks`` (``HfApi.create_webhook`` and the rest):
a URL, the items it watches (users, orgs, models, datasets), its domains (``repo``, ``discussion``), a
secret and whether it is disabled. Only its owner sees or changes it (anyone else gets 404, as for a
webhook that does not exist), with a write token. Every refusal is one line and stores nothing.

A URL must pass ``hub_rules.webhook_targets`` (http/https, resolving to public addresses unless the
operator sets ``HUB_WEBHOOK_ALLOW_PRIVATE``); an account has at most ``HUB_WEBHOOK_MAX_PER_USER``. Without
a secret the hub makes one, so every delivery is signed. HF's client sends ``watched: []`` on every
update: an empty list keeps what the webhook watches."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub_rules import TargetRefused, is_name, is_repo_id
from hub_rules.webhook_targets import check_target

from ..db.models import Org, Repo, User, Webhook, WebhookDelivery, WebhookWatch, utcnow
from ..errors import Forbidden, Invalid, NotFound
from . import audit
from .auth import Principal, can_see, require_user
from .context import Hub
from .tokens import aware
from .webhook_deliveries import delivery_json

DOMAINS = ("repo", "discussion")
WATCH_TYPES = ("user", "org", "model", "dataset")
MAX_WATCHED = 100
MAX_SECRET_CHARS = 200
_ID = re.compile(r"[0-9a-f]{24}")
_SECRET = re.compile(rf"[\x21-\x7e]{{1,{MAX_SECRET_CHARS}}}")  # printable ASCII: it travels as a header


def require_manager(who: Principal | None) -> Principal:
    who = require_user(who)
    if who.scope not in ("write", "admin"):
        raise Forbidden(f"token scope {who.scope!r} cannot manage webhooks; use a token with scope write")
    return who


def check_domains(raw: object) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(d, str) and d in DOMAINS for d in raw):
        raise Invalid("domains must be a non-empty list of repo and discussion")
    return [d for d in DOMAINS if d in raw]


def check_secret(raw: object) -> str:
    if not isinstance(raw, str) or not _SECRET.fullmatch(raw):
        raise Invalid(f"the secret must be 1 to {MAX_SECRET_CHARS} printable ASCII characters without spaces")
    return raw


def check_url(hub: Hub, raw: object) -> str:
    """The URL as given, once its shape and the addresses it resolves to are acceptable (400 otherwise)."""
    try:
        return check_target(raw, allow_private=hub.settings.webhook_allow_private).url
    except TargetRefused as exc:
        raise Invalid(str(exc)) from None


def _watch(session: Session, who: Principal, item: object) -> tuple[str, str]:
    """(type, canonical name) of one watched item; 404 for what does not exist or the caller cannot see."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("name"), str):
        raise Invalid("each watched item is an object with a type and a name")
    kind, name = item["type"], item["name"]
    if kind in ("space", "bucket"):
        raise Invalid(f"this hub has no {kind}s; watch a user, org, model or dataset")
    if kind not in WATCH_TYPES:
        raise Invalid(f"watched type {kind[:40]!r} is not one of {', '.join(WATCH_TYPES)}")
    if kind in ("user", "org"):
        table = User if kind == "user" else Org
        found = (
            session.scalar(select(table.name).where(func.lower(table.name) == name.lower())) if is_name(name) else None
        )
        if found is None:
            raise NotFound(f"watched {kind} {name[:100]!r} not found")
        return kind, found
    repo = session.scalar(select(Repo).where(Repo.full_name == name.lower())) if is_repo_id(name) else None
    if repo is None or not can_see(who, repo) or (repo.kind == "dataset") != (kind == "dataset"):
        raise NotFound(f"watched {kind} {name[:200]!r} not found")
    return kind, f"{repo.namespace}/{repo.name}"


def check_watched(session: Session, who: Principal, raw: object) -> list[tuple[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise Invalid("watched must be a non-empty list of {type, name} items")
    if len(raw) > MAX_WATCHED:
        raise Invalid(f"a webhook watches at most {MAX_WATCHED} items")
    return list(dict.fromkeys(_watch(session, who, item) for item in raw))


def _set_watched(row: Webhook, watched: list[tuple[str, str]]) -> None:
    row.watched = [
        WebhookWatch(position=i, type=kind, name=name, key=name.lower()) for i, (kind, name) in enumerate(watched)
    ]


def _iso(moment: Any) -> str | None:
    moment = aware(moment)
    return moment.isoformat() if moment is not None else None


def webhook_json(row: Webhook) -> dict[str, Any]:
    """What ``huggingface_hub`` reads into ``WebhookInfo``, and this hub's delivery state beside it."""
    return {
        "id": row.id,
        "url": row.url,
        "job": None,
        "watched": [{"type": w.type, "name": w.name} for w in row.watched],
        "domains": json.loads(row.domains_json),
        "secret": row.secret,
        "disabled": bool(row.disabled),
        "disabledReason": row.disabled_reason,
        "consecutiveFailures": row.failures,
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
    }


def _no_jobs(body: dict[str, Any]) -> None:
    if body.get("jobSourceId") is not None or body.get("secrets") is not None:
        raise Invalid("this hub runs no Jobs: a webhook here posts to a url")


def create(hub: Hub, who: Principal | None, body: dict[str, Any]) -> dict[str, Any]:
    who = require_manager(who)
    _no_jobs(body)
    url = check_url(hub, body.get("url"))
    domains = check_domains(list(DOMAINS) if body.get("domains") is None else body["domains"])
    secret = check_secret(body["secret"]) if body.get("secret") is not None else secrets.token_urlsafe(24)
    with hub.db.write() as s:
        watched = check_watched(s, who, body.get("watched"))
        s.execute(select(User.id).where(User.id == who.user_id).with_for_update())  # one creator at a time
        count = s.scalar(select(func.count()).select_from(Webhook).where(Webhook.user_id == who.user_id)) or 0
        most = hub.settings.webhook_max_per_user
        if count >= most:
            raise Forbidden(f"{who.name} already has {count} webhooks, the most one account may have; delete one first")
        now = utcnow()
        row = Webhook(
            id=secrets.token_hex(12),
            user_id=who.user_id,
            url=url,
            secret=secret,
            domains_json=json.dumps(domains),
            disabled=False,
            failures=0,
            created_at=now,
            updated_at=now,
        )
        _set_watched(row, watched)
        s.add(row)
        s.flush()
        audit.record(s, "webhook.create", who.name, f"webhook {row.id}", url=url)
        return webhook_json(row)


def find(session: Session, who: Principal, webhook_id: str) -> Webhook:
    """The caller's webhook ``webhook_id``; 404 for another user's, as for one that does not exist."""
    row = session.get(Webhook, webhook_id) if _ID.fullmatch(webhook_id) else None
    if row is None or row.user_id != who.user_id:
        raise NotFound(f"webhook {webhook_id[:40]} not found")
    return row


def list_mine(hub: Hub, who: Principal | None) -> list[dict[str, Any]]:
    who = require_manager(who)
    with hub.db.read() as s:
        rows = s.scalars(select(Webhook).where(Webhook.user_id == who.user_id).order_by(Webhook.created_at))
        return [webhook_json(row) for row in rows]


def get(hub: Hub, who: Principal | None, webhook_id: str) -> dict[str, Any]:
    who = require_manager(who)
    with hub.db.read() as s:
        return webhook_json(find(s, who, webhook_id))


def update(hub: Hub, who: Principal | None, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
    who = require_manager(who)
    _no_jobs(body)
    with hub.db.read() as s:
        find(s, who, webhook_id)  # 404 before any URL is resolved
    url = check_url(hub, body["url"]) if body.get("url") is not None else None
    domains = check_domains(body["domains"]) if body.get("domains") is not None else None
    secret = check_secret(body["secret"]) if body.get("secret") is not None else None
    with hub.db.write() as s:
        row = find(s, who, webhook_id)
        if body.get("watched"):
            watched = check_watched(s, who, body["watched"])
            row.watched = []
            s.flush()  # the old items go before new ones take their positions
            _set_watched(row, watched)
        row.url = url or row.url
        row.domains_json = json.dumps(domains) if domains else row.domains_json
        row.secret = secret or row.secret
        row.updated_at = utcnow()
        s.flush()
        audit.record(s, "webhook.update", who.name, f"webhook {row.id}", url=row.url)
        return webhook_json(row)


def set_disabled(hub: Hub, who: Principal | None, webhook_id: str, disabled: bool) -> dict[str, Any]:
    """Disable, or enable again (which clears the failure count that may have disabled it)."""
    who = require_manager(who)
    with hub.db.write() as s:
        row = find(s, who, webhook_id)
        row.disabled, row.updated_at = disabled, utcnow()
        row.disabled_reason = f"disabled by {who.name}" if disabled else None
        if not disabled:
            row.failures = 0
        audit.record(s, "webhook.update", who.name, f"webhook {row.id}", disabled=disabled)
        return webhook_json(row)


def delete(hub: Hub, who: Principal | None, webhook_id: str) -> None:
    who = require_manager(who)
    with hub.db.write() as s:
        row = find(s, who, webhook_id)
        audit.record(s, "webhook.delete", who.name, f"webhook {row.id}", url=row.url)
        s.delete(row)


def deliveries(hub: Hub, who: Principal | None, webhook_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The webhook's delivery log, newest first."""
    who = require_manager(who)
    with hub.db.read() as s:
        find(s, who, webhook_id)
        rows = s.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
            .limit(max(1, min(limit, 500)))
        )
        return [delivery_json(row) for row in rows]


def with_recent_deliveries(hub: Hub, who: Principal | None, shown: int = 10) -> list[dict[str, Any]]:
    """The owner's webhooks, each with its ``shown`` newest deliveries (the site's settings page)."""
    found = list_mine(hub, who)
    for hook in found:
        hook["deliveries"] = deliveries(hub, who, hook["id"], shown)
    return found

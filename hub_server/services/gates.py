"""Gated repos (HF's ``gated="auto"|"manual"``): the card, file list and metadata stay public, the
files themselves download only for the repo's owners and users whose access request was accepted.
``auto`` accepts every request at once (a click-through); ``manual`` leaves it pending until an owner
accepts or rejects it. Requests are asked on the repo's access page; owners list and handle them
through ``huggingface_hub`` (``list_pending_access_requests``, ``accept_access_request``,
``reject_access_request``, ``grant_access``) or on the same page."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import AccessRequest, Repo, RepoGate, User, utcnow
from ..errors import Conflict, Invalid, NotFound, ServiceError, TooLarge
from .auth import Principal, require_user, require_write
from .context import Hub
from .repos import find_repo

MODES = ("auto", "manual")
STATUSES = ("pending", "accepted", "rejected")


class GatedRepo(ServiceError):
    """403 with ``X-Error-Code: GatedRepo``: ``huggingface_hub`` raises ``GatedRepoError``."""

    status, code, hf_code = 403, "gated", "GatedRepo"


class GatedRepoAnonymous(GatedRepo):
    """401 for a caller without a token (HF's answer), still ``GatedRepo`` so the client says why."""

    status = 401


def mode_of(session: Session, repo: Repo) -> str | None:
    row = session.get(RepoGate, repo.id)
    return row.mode if row is not None else None


def gated(hub: Hub, repo: Repo) -> str | bool:
    """``ModelInfo.gated``: ``"auto"``, ``"manual"`` or False."""
    with hub.db.read() as s:
        return mode_of(s, repo) or False


def set_gate(hub: Hub, who: Principal | None, namespace: str, name: str, gated: object) -> None:
    """``update_repo_settings(gated=...)``: ``"auto"``, ``"manual"`` or ``False``; owners only."""
    if gated is not False and gated not in MODES:
        raise Invalid('\'gated\' must be "auto", "manual" or false')
    with hub.db.write() as s:
        repo = find_repo(s, require_user(who), namespace, name)
        require_write(who, namespace)
        row = s.get(RepoGate, repo.id)
        if gated is False:
            if row is not None:
                s.delete(row)
        elif row is None:
            s.add(RepoGate(repo_id=repo.id, mode=gated, updated_at=utcnow()))
        else:
            row.mode, row.updated_at = gated, utcnow()


def can_download(session: Session, who: Principal | None, repo: Repo) -> bool:
    if mode_of(session, repo) is None or (who is not None and who.owns(repo.namespace)):
        return True
    if who is None:
        return False
    row = session.get(AccessRequest, (repo.id, who.name))
    return row is not None and row.status == "accepted"


def require_access(hub: Hub, who: Principal | None, repo: Repo) -> None:
    """Raise ``GatedRepo`` unless ``who`` may download ``repo``'s files."""
    with hub.db.read() as s:
        if can_download(s, who, repo):
            return
        row = s.get(AccessRequest, (repo.id, who.name)) if who is not None else None
    repo_id = f"{repo.namespace}/{repo.name}"
    kind = "dataset" if repo.kind == "dataset" else "model"
    if who is None:  # 401 as on the HF Hub; the code keeps it a gate, not a bad token
        raise GatedRepoAnonymous(
            f"Access to {kind} {repo_id} is restricted. You must have access to it and be authenticated to "
            f"access it. Please log in (request access at /{repo_id}/access)."
        )
    state = f"your request is {row.status}" if row is not None else f"request access at /{repo_id}/access"
    raise GatedRepo(f"Access to {kind} {repo_id} is restricted and you are not in the authorized list ({state}).")


def ask(hub: Hub, who: Principal | None, namespace: str, name: str) -> AccessRequest:
    """Request access (``auto`` gates accept at once); asking again returns the existing request."""
    who = require_user(who)
    try:
        with hub.db.write() as s:
            repo = find_repo(s, who, namespace, name)
            mode = mode_of(s, repo)
            if mode is None:
                raise Conflict(f"{namespace}/{name} is not gated: its files are open to everyone")
            row = s.get(AccessRequest, (repo.id, who.name))
            if row is None:
                now = utcnow()
                row = AccessRequest(
                    repo_id=repo.id,
                    user_name=who.name,
                    request_id=secrets.token_hex(12),
                    status="accepted" if mode == "auto" else "pending",
                    created_at=now,
                    updated_at=now,
                )
                s.add(row)
                s.flush()
            return row
    except IntegrityError:
        raise Conflict("your request was sent twice at once; reload the page") from None


def listing(hub: Hub, who: Principal | None, namespace: str, name: str, status: str) -> list[AccessRequest]:
    if status not in STATUSES:
        raise NotFound(f"no access request list {status[:40]!r}: use pending, accepted or rejected")
    with hub.db.read() as s:
        repo = find_repo(s, require_user(who), namespace, name)
        require_write(who, namespace)
        return list(
            s.scalars(
                select(AccessRequest)
                .where(AccessRequest.repo_id == repo.id, AccessRequest.status == status)
                .order_by(AccessRequest.created_at)
            )
        )


def handle(
    hub: Hub,
    who: Principal | None,
    namespace: str,
    name: str,
    user: object,
    status: object,
    reason: object = None,
    request_id: object = None,
) -> AccessRequest:
    """Accept, reject or reset to pending a request, named by its user or its ``requestId``; owners
    only; 404 without a request, 409 when it already has that status."""
    if status not in STATUSES:
        raise Invalid("'status' must be pending, accepted or rejected")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 1000):
        raise TooLarge("the rejection reason is longer than the limit of 1000 characters")
    with hub.db.write() as s:
        repo = find_repo(s, require_user(who), namespace, name)
        require_write(who, namespace)
        if isinstance(user, str):
            row = s.get(AccessRequest, (repo.id, user[:100]))
        elif isinstance(request_id, str):
            row = s.scalar(
                select(AccessRequest).where(
                    AccessRequest.repo_id == repo.id, AccessRequest.request_id == request_id[:100]
                )
            )
        else:
            raise Invalid("name the request by 'user' or 'requestId'")
        if row is None:
            raise NotFound(f"no access request from {str(user or request_id)[:100]!r} for {namespace}/{name}")
        if row.status == status:
            raise Conflict(f"the request of {row.user_name} for {namespace}/{name} is already {status}")
        row.status, row.reason, row.updated_at = status, reason if status == "rejected" else None, utcnow()
        return row


def grant(hub: Hub, who: Principal | None, namespace: str, name: str, user: object) -> AccessRequest:
    """Give a user access without a request (``grant_access``); 409 if they already have it."""
    with hub.db.write() as s:
        repo = find_repo(s, require_user(who), namespace, name)
        require_write(who, namespace)
        if not isinstance(user, str) or s.scalar(select(User.id).where(User.name == user)) is None:
            raise NotFound(f"no user {str(user)[:100]!r}")
        row = s.get(AccessRequest, (repo.id, user))
        if row is not None and row.status == "accepted":
            raise Conflict(f"{user} already has access to {namespace}/{name}")
        now = utcnow()
        if row is None:
            row = AccessRequest(repo_id=repo.id, user_name=user, request_id=secrets.token_hex(12), created_at=now)
            s.add(row)
        row.status, row.updated_at = "accepted", now
        s.flush()
        return row

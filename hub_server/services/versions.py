"""Reading and curating versions: list, resolve a ref (exact, main, commit, range), the
history up to a ref, the cards of the latest versions, yank and delete (the name stays reserved). Resolving never writes: downloads are counted
by ``download_counts`` off the request path."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hub_rules import MAIN_NAMES, VersionInvalid, is_commit, is_range, newest, sort_key

from ..db.models import Repo, Version, utcnow
from ..errors import EntryNotFound, Invalid, RevisionNotFound
from . import audit, webhook_events
from .auth import Principal, require_write
from .context import Hub
from .job_grants import find_for_download
from .repo_index import index_latest
from .repos import find_repo
from .webhook_payloads import main_head


def live_versions(session: Session, repo: Repo, *, files: bool = True) -> list[Version]:
    """Not-deleted versions, newest first by semver (``files=False``: without their file lists, for
    callers that only pick one, so a repo's 500th publish does not load the 499 others' files)."""
    query = select(Version).where(Version.repo_id == repo.id, Version.deleted.is_(False))
    rows = session.scalars(query.options(selectinload(Version.files)) if files else query).all()
    return sorted(rows, key=lambda v: sort_key(v.version), reverse=True)


def pick(versions: list[Version], ref: str) -> Version:
    """``versions`` newest first; raises NotFound naming the ref (ranges: ``hub_rules.semver``)."""
    if ref in MAIN_NAMES or ref == "":
        found = next((v for v in versions if not v.yanked), None)
    elif is_commit(ref):
        found = next((v for v in versions if v.commit == ref), None)
    else:
        found = next((v for v in versions if v.version == ref), None)
        if found is None and is_range(ref):
            try:
                found = newest([v for v in versions if not v.yanked], ref, key=lambda v: v.version)
            except VersionInvalid as exc:
                raise Invalid(str(exc)) from None
    if found is None:
        raise RevisionNotFound(f"no version matches {ref!r}")
    return found


def resolve(hub: Hub, who: Principal | None, namespace: str, name: str, ref: str) -> tuple[Repo, Version]:
    """A download's version; a worker's token also reaches the hidden version its running job names."""
    with hub.db.read() as s:
        repo, only = find_for_download(s, who, namespace, name)
        live = live_versions(s, repo)
        version = pick(live if only is None else [v for v in live if v.version in only], ref)
    return repo, version


def exact(hub: Hub, who: Principal | None, namespace: str, name: str, version: str) -> tuple[Repo, Version]:
    """One version by its exact name, with its files (not every version of the repo)."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        row = s.scalar(
            select(Version)
            .where(Version.repo_id == repo.id, Version.version == version, Version.deleted.is_(False))
            .options(selectinload(Version.files))
        )
        if row is None:
            raise RevisionNotFound(f"version {version} of {namespace}/{name} not found")
        return repo, row


def list_versions(hub: Hub, who: Principal | None, namespace: str, name: str) -> tuple[Repo, list[Version]]:
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        return repo, live_versions(s, repo)


def history(hub: Hub, who: Principal | None, namespace: str, name: str, ref: str) -> tuple[Repo, list[Version]]:
    """The version ``ref`` resolves to and every older one, newest first (yanked ones included)."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        live = live_versions(s, repo)
        top = sort_key(pick(live, ref).version)
    return repo, [v for v in live if sort_key(v.version) <= top]


def latest_cards(hub: Hub, repos: list[Repo]) -> dict[int, dict]:
    """Each repo's latest model card by repo id, in one query (listings show card fields)."""
    latest = {r.id: r.latest_version for r in repos if r.latest_version}
    if not latest:
        return {}
    with hub.db.read() as s:
        rows = s.execute(
            select(Version.repo_id, Version.version, Version.card_json).where(
                Version.repo_id.in_(latest), Version.version.in_(set(latest.values()))
            )
        ).all()
    return {repo_id: json.loads(card or "{}") for repo_id, version, card in rows if latest[repo_id] == version}


def refresh_latest(session: Session, repo: Repo) -> None:
    live = [v for v in live_versions(session, repo, files=False) if not v.yanked]
    repo.latest_version = live[0].version if live else None
    repo.updated_at = utcnow()
    index_latest(repo, live[0] if live else None)


def yank(hub: Hub, who: Principal | None, namespace: str, name: str, version: str, reason: str) -> Version:
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        who = require_write(who, namespace)
        row = _exact(s, repo, version)
        old_head = main_head(s, repo)
        row.yanked, row.yank_reason = True, (reason or "")[:2000]
        refresh_latest(s, repo)
        audit.record(s, "version.yank", who.name, f"{namespace}/{name}@{version}", reason=row.yank_reason)
        webhook_events.version_changed(s, repo, row, old_head)
        return row


def delete_version(hub: Hub, who: Principal | None, namespace: str, name: str, version: str) -> None:
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        who = require_write(who, namespace)
        row = _exact(s, repo, version)
        old_head = main_head(s, repo)
        row.deleted = True
        row.files.clear()
        refresh_latest(s, repo)
        audit.record(s, "version.delete", who.name, f"{namespace}/{name}@{version}", commit=row.commit)
        webhook_events.version_changed(s, repo, row, old_head)


def _exact(session: Session, repo: Repo, version: str) -> Version:
    row = session.scalar(
        select(Version).where(Version.repo_id == repo.id, Version.version == version, Version.deleted.is_(False))
    )
    if row is None:
        raise RevisionNotFound(f"version {version} of {repo.namespace}/{repo.name} not found")
    return row


def file_of(version: Version, path: str):
    for f in version.files:
        if f.path == path:
            return f
    raise EntryNotFound(f"file {path!r} not in version {version.version}")


def repo_has_blob(hub: Hub, who: Principal | None, namespace: str, name: str, digest: str) -> Repo:
    from ..db.models import VersionFile

    with hub.db.read() as s:
        repo, only = find_for_download(s, who, namespace, name)
        query = (
            select(VersionFile.digest)
            .join(Version, Version.id == VersionFile.version_id)
            .where(Version.repo_id == repo.id, Version.deleted.is_(False), VersionFile.digest == digest)
        )
        if only is not None:  # a worker's token: the blobs of the version its job names, no other
            query = query.where(Version.version.in_(sorted(only)))
        hit = s.scalar(query.limit(1))
        if hit is None:
            raise EntryNotFound(f"blob {digest} is not part of {namespace}/{name}")
        return repo

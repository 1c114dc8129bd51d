"""Repository lifecycle and lookup: create, find (private repos are 404 to outsiders),
change visibility, delete (version names tombstoned). Shared by the native and the
HF-compatible routes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import Repo, Version, VersionTombstone, utcnow
from ..errors import Conflict, Invalid, RepoNotFound
from . import audit
from .auth import Principal, can_see, require_user, require_write
from .context import Hub
from .names import check_name
from .search_terms import set_search_text

KINDS = ("adapter", "base", "dataset")  # a dataset: data files instead of weights (dataset_files)


def find_repo(session: Session, who: Principal | None, namespace: str, name: str) -> Repo:
    repo = session.scalar(select(Repo).where(Repo.namespace == namespace, Repo.name == name))
    if repo is None or not can_see(who, repo):
        raise RepoNotFound(f"repository {namespace}/{name} not found")
    return repo


def get_repo(hub: Hub, who: Principal | None, namespace: str, name: str) -> Repo:
    with hub.db.read() as s:
        return find_repo(s, who, namespace, name)


def create_repo(hub: Hub, who: Principal | None, namespace: str, name: str, *, kind: str = "adapter",
                private: bool = False) -> Repo:
    check_name(namespace, "namespace")
    check_name(name, "repository name")
    if kind not in KINDS:
        raise Invalid(f"invalid kind {kind!r}: use adapter, base or dataset")
    who = require_write(who, namespace)
    now = utcnow()
    try:
        with hub.db.write() as s:
            full_name = f"{namespace}/{name}".lower()
            taken = s.scalar(select(Repo).where(Repo.full_name == full_name))
            if taken is not None:
                same = taken.namespace == namespace and taken.name == name
                raise Conflict(f"repository {namespace}/{name} already exists" + (
                    "" if same or not can_see(who, taken) else f" as {taken.namespace}/{taken.name} (names ignore case)"))
            repo = Repo(namespace=namespace, name=name, full_name=full_name, kind=kind,
                        private=bool(private), downloads=0, created_at=now, updated_at=now,
                        metadata_json="{}")
            set_search_text(repo, f"{namespace}/{name}")
            s.add(repo)
            audit.record(s, "repo.create", who.name, f"{namespace}/{name}", kind=kind, private=bool(private))
        return repo
    except IntegrityError:
        raise Conflict(f"repository {namespace}/{name} already exists") from None


def delete_repo(hub: Hub, who: Principal | None, namespace: str, name: str) -> None:
    who = require_user(who)
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        who = require_write(who, namespace)
        tombstone_versions(s, repo)
        audit.record(s, "repo.delete", who.name, f"{namespace}/{name}")
        s.delete(repo)


def set_private(hub: Hub, who: Principal | None, namespace: str, name: str, private: bool) -> Repo:
    """Make a repository private (404 to everyone but its owners) or public again; owners only."""
    if not isinstance(private, bool):
        raise Invalid("'private' must be true or false")
    who = require_user(who)
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        who = require_write(who, namespace)
        if repo.private != private:
            repo.private = private
            repo.updated_at = utcnow()
            audit.record(s, "repo.visibility", who.name, f"{namespace}/{name}", private=private)
        return repo


def find_base(session: Session, who: Principal | None, fingerprint: str | None,
              base_id: str | None = None) -> Repo | None:
    """The base repo on this hub whose weights have ``fingerprint`` (else the one named ``base_id``), if visible."""
    if fingerprint:
        # ids first: the covering index answers on every planner, even when statistics say most
        # repos share one fingerprint (NULL, for adapters) and a whole-table scan looks as cheap
        ids = session.scalars(select(Repo.id).where(Repo.fingerprint == fingerprint).limit(50)).all()
        if ids:
            for repo in session.scalars(select(Repo).where(Repo.id.in_(ids), Repo.kind == "base").order_by(Repo.id)):
                if can_see(who, repo):
                    return repo
    if base_id and base_id.count("/") == 1:
        namespace, name = base_id.split("/")
        repo = session.scalar(select(Repo).where(Repo.namespace == namespace, Repo.name == name, Repo.kind == "base"))
        if repo is not None and can_see(who, repo):
            return repo
    return None
def tombstone_versions(session: Session, repo: Repo) -> None:
    """Keep each version name bound to its commit, so a re-created repo cannot reuse it with other bytes."""
    kept = set(session.scalars(select(VersionTombstone.version).where(VersionTombstone.full_name == repo.full_name)))
    for version, commit in session.execute(select(Version.version, Version.commit).where(Version.repo_id == repo.id)):
        if version not in kept:
            session.add(VersionTombstone(full_name=repo.full_name, version=version, commit=commit, deleted_at=utcnow()))


def reserved_versions(hub: Hub, repo: Repo) -> list[str]:
    """Every version name ``repo`` may not give to new content: live, yanked, deleted, and those of
    a deleted repository of the same name."""
    with hub.db.read() as s:
        own = s.scalars(select(Version.version).where(Version.repo_id == repo.id)).all()
        old = s.scalars(select(VersionTombstone.version).where(VersionTombstone.full_name == repo.full_name)).all()
    return sorted(set(own) | set(old))


def tombstoned_commit(session: Session, repo: Repo, version: str) -> str | None:
    """The commit a version name had before the repo was deleted and re-created, if any."""
    return session.scalar(select(VersionTombstone.commit).where(
        VersionTombstone.full_name == repo.full_name, VersionTombstone.version == version))

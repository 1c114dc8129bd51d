"""Repository lifecycle and lookup: create, find (private repos are 404 to outsiders),
change visibility, move (the old name redirects), delete (version names tombstoned). Shared by the
native and the HF-compatible routes.

A move keeps the repo (id, versions, refs, discussions) and changes only its name. The old name
becomes a redirect, and its version names are tombstoned like a deleted repo's, so a new repo that
later takes the old name (ending the redirect) can never give those names other bytes; a move onto
a name whose tombstones bind a version name to another commit is refused for the same reason."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.models import Repo, RepoRedirect, Version, VersionTombstone, WebhookWatch, utcnow
from ..errors import Conflict, Invalid, RepoNotFound
from . import audit, webhook_events
from .auth import Principal, can_see, require_user, require_write
from .context import Hub
from .names import check_name, namespace_owner
from .search_terms import set_search_text

KINDS = ("adapter", "base", "dataset")  # a dataset: data files instead of weights (dataset_files)


def lookup_repo(session: Session, namespace: str, name: str) -> Repo | None:
    """The repo named ``namespace/name`` now or before a move, whoever may see it (callers check)."""
    repo = session.scalar(select(Repo).where(Repo.namespace == namespace, Repo.name == name))
    if repo is None:  # a former name of a moved repo
        redirect = session.get(RepoRedirect, f"{namespace}/{name}".lower())
        repo = session.get(Repo, redirect.repo_id) if redirect is not None else None
    return repo


def find_repo(session: Session, who: Principal | None, namespace: str, name: str) -> Repo:
    repo = lookup_repo(session, namespace, name)
    if repo is None or not can_see(who, repo):
        raise RepoNotFound(f"repository {namespace}/{name} not found")
    return repo


def get_repo(hub: Hub, who: Principal | None, namespace: str, name: str) -> Repo:
    with hub.db.read() as s:
        return find_repo(s, who, namespace, name)


def _private_by_default(session: Session, namespace: str) -> bool:
    owner = namespace_owner(session, namespace)
    return owner is not None and owner[0] == "org" and owner[1].private_by_default


def create_repo(
    hub: Hub, who: Principal | None, namespace: str, name: str, *, kind: str = "adapter", private: bool | None = None
) -> Repo:
    """A new empty repo; ``private=None`` takes the namespace's default (an org's ``private_by_default``)."""
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
                raise Conflict(
                    f"repository {namespace}/{name} already exists"
                    + (
                        ""
                        if same or not can_see(who, taken)
                        else f" as {taken.namespace}/{taken.name} (names ignore case)"
                    )
                )
            if private is None:
                private = _private_by_default(s, namespace)
            repo = Repo(
                namespace=namespace,
                name=name,
                full_name=full_name,
                kind=kind,
                private=bool(private),
                downloads=0,
                created_at=now,
                updated_at=now,
                metadata_json="{}",
            )
            set_search_text(repo, f"{namespace}/{name}")
            s.add(repo)
            if (redirect := s.get(RepoRedirect, full_name)) is not None:
                s.delete(redirect)  # the new repo takes the old name; its tombstones still bind
            audit.record(s, "repo.create", who.name, f"{namespace}/{name}", kind=kind, private=bool(private))
            s.flush()
            webhook_events.repo_changed(s, repo, "create")
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
        webhook_events.repo_changed(s, repo, "delete")
        s.execute(delete(RepoRedirect).where(RepoRedirect.repo_id == repo.id))  # never left to a reused id
        s.delete(repo)


def move_repo(
    hub: Hub,
    who: Principal | None,
    namespace: str,
    name: str,
    to_namespace: str,
    to_name: str,
    kind_word: str = "model",
) -> Repo:
    """Rename ``namespace/name`` to ``to_namespace/to_name`` (writers of both namespaces)."""
    check_name(to_namespace, "namespace")
    check_name(to_name, "repository name")
    who = require_user(who)
    target = f"{to_namespace}/{to_name}"
    try:
        with hub.db.write() as s:
            repo = find_repo(s, who, namespace, name)
            require_write(who, repo.namespace)
            require_write(who, to_namespace)
            old_full, new_full = repo.full_name, target.lower()
            taken = s.scalar(select(Repo).where(Repo.full_name == new_full))
            if taken is not None:
                raise Conflict(f"A {kind_word} repository called {target} already exists")
            own = {
                v: c for v, c in s.execute(select(Version.version, Version.commit).where(Version.repo_id == repo.id))
            }
            for version, commit in s.execute(
                select(VersionTombstone.version, VersionTombstone.commit).where(VersionTombstone.full_name == new_full)
            ):
                if version in own and own[version] != commit:
                    raise Conflict(
                        f"{target} once had a version {version} with other content; version names are "
                        "never reused, so the repo cannot take that name"
                    )
            tombstone_versions(s, repo)  # the old name keeps its version names bound
            webhook_events.repo_changed(s, repo, "move", moved_to=target)
            s.execute(  # webhooks watching the repo follow it to its new name
                update(WebhookWatch)
                .where(WebhookWatch.type == ("dataset" if repo.kind == "dataset" else "model"))
                .where(WebhookWatch.key == old_full)
                .values(name=target, key=new_full)
            )
            if (redirect := s.get(RepoRedirect, new_full)) is not None:
                s.delete(redirect)
            s.flush()
            s.add(RepoRedirect(full_name=old_full, repo_id=repo.id, created_at=utcnow()))
            repo.namespace, repo.name, repo.full_name, repo.updated_at = to_namespace, to_name, new_full, utcnow()
            for term in repo.terms:
                term.full_name = new_full
            set_search_text(
                repo,
                repo.search_text.replace(old_full, new_full, 1)
                if old_full in repo.search_text
                else f"{new_full} {repo.search_text}",
            )
            audit.record(s, "repo.move", who.name, f"{namespace}/{name}", to=target)
        return repo
    except IntegrityError:
        raise Conflict(f"A {kind_word} repository called {target} already exists") from None


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
            webhook_events.repo_changed(s, repo, "update", "repo.config")
        return repo


def find_base(
    session: Session, who: Principal | None, fingerprint: str | None, base_id: str | None = None
) -> Repo | None:
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
    return session.scalar(
        select(VersionTombstone.commit).where(
            VersionTombstone.full_name == repo.full_name, VersionTombstone.version == version
        )
    )

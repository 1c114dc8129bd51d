"""Branches, tags and pull-request refs: named pointers to commits, beside the immutable versions.

How they relate to versions (the one rule, also in the README):

- ``main`` is the default branch and stays what it always was: the newest un-yanked version. A
  commit to ``main`` publishes a new version; ``main`` cannot be created, moved by hand or deleted.
- Any other branch (``create_branch``) points at a commit. A commit to that branch makes a new
  *ref commit* (``RefCommit``): a snapshot reachable only through the branch (or its commit id). It
  is never a release: not in the version list, not what ``main`` or ``hub pull ns/name@^1`` resolve.
- ``create_tag`` names a commit. A tag that is a semver string (``1.2.0``) IS a version: tagging
  publishes that commit as the release ``1.2.0`` with every publish check (paths, safetensors headers,
  signature, quota), so it becomes ``main`` when it is the newest. Any other tag (``stable``) is a
  fixed pointer that never moves; it is not a release either.
- ``refs/pr/N`` is the head of pull request N (``discussions``); merging publishes it on ``main``.

A revision in a URL resolves in this order: ``main``; ``refs/heads/X``, ``refs/tags/X``,
``refs/pr/N``; a branch, then a tag called so; a version, range or commit id of a version; the id
of a ref commit. Names a version could mean (semver, 40-hex, ``latest``) are refused as branch names.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from hub_rules import MAIN_NAMES, is_commit, is_version, sort_key

from ..db.models import Blob, BlobUpload, RefCommit, RefCommitFile, Repo, RepoRef, Version, utcnow
from ..errors import Conflict, Forbidden, Invalid, RevisionNotFound
from . import audit, webhook_events
from .auth import Principal, require_user, require_write
from .context import Hub
from .publish import FileEntry, publish
from .repos import find_repo
from .versions import live_versions, pick

Snapshot = Version | RefCommit  # what a revision resolves to: both carry commit, files, card_json
_REF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
PR_PREFIX = "refs/pr/"


def check_ref_name(name: str, what: str) -> str:
    """A branch or tag name git would accept and no version reference could mean."""
    if (
        not isinstance(name, str)
        or not _REF_NAME.fullmatch(name)
        or ".." in name
        or "//" in name
        or name.endswith(("/", ".lock", "."))
        or name.startswith("refs/")
    ):
        raise Invalid(
            f"invalid {what} name {str(name)[:80]!r}: letters, digits, '.', '_', '-' and '/', at most 200 characters"
        )
    if what == "branch" and (name in MAIN_NAMES or is_commit(name) or is_version(name.lstrip("vV"))):
        raise Invalid(f"{name!r} reads as a version or commit; choose another branch name")
    return name


def pr_number(revision: str) -> int | None:
    """``N`` of ``refs/pr/N``, else None."""
    if revision.startswith(PR_PREFIX) and revision[len(PR_PREFIX) :].isdigit():
        return int(revision[len(PR_PREFIX) :])
    return None


def named_ref(session: Session, repo: Repo, kind: str, name: str) -> RepoRef | None:
    return session.get(RepoRef, (repo.id, kind, name))


def by_commit(session: Session, repo: Repo, commit: str) -> Snapshot | None:
    """The snapshot with this commit id: a ref commit, else a live version."""
    row = session.scalar(
        select(RefCommit)
        .where(RefCommit.repo_id == repo.id, RefCommit.commit == commit)
        .options(selectinload(RefCommit.files))
    )
    if row is not None:
        return row
    return session.scalar(
        select(Version)
        .where(Version.repo_id == repo.id, Version.commit == commit, Version.deleted.is_(False))
        .options(selectinload(Version.files))
    )


def _target(session: Session, repo: Repo, ref: RepoRef | None, revision: str) -> Snapshot:
    found = by_commit(session, repo, ref.commit) if ref is not None else None
    if found is None:
        raise RevisionNotFound(f"no branch, tag or version matches {revision!r}")
    return found


def lookup(session: Session, repo: Repo, revision: str) -> Snapshot:
    """The snapshot ``revision`` names (order in the module docstring); RevisionNotFound otherwise."""
    rev = revision or "main"
    if rev in MAIN_NAMES or rev == "refs/heads/main":
        return pick(live_versions(session, repo), "main")
    if rev.startswith("refs/heads/"):
        return _target(session, repo, named_ref(session, repo, "branch", rev[len("refs/heads/") :]), rev)
    if rev.startswith("refs/tags/"):
        name = rev[len("refs/tags/") :]
        ref = named_ref(session, repo, "tag", name)
        return _target(session, repo, ref, rev) if ref is not None else _exact_version(session, repo, name)
    if (num := pr_number(rev)) is not None:
        return _target(session, repo, named_ref(session, repo, "pr", str(num)), rev)
    ref = named_ref(session, repo, "branch", rev) or named_ref(session, repo, "tag", rev)
    if ref is not None:
        return _target(session, repo, ref, rev)
    try:
        return pick(live_versions(session, repo), rev)
    except (RevisionNotFound, Invalid):
        found = by_commit(session, repo, rev) if is_commit(rev) else by_short_commit(session, repo, rev)
        if found is None:
            raise
        return found


_SHORT_COMMIT = re.compile(r"[0-9a-f]{7,39}")


def by_short_commit(session: Session, repo: Repo, prefix: str) -> Snapshot | None:
    """The one snapshot whose commit id starts with ``prefix`` (7 to 39 hex digits, git's short
    form); None when none or more than one does."""
    if not _SHORT_COMMIT.fullmatch(prefix):
        return None
    commits = set(
        session.scalars(
            select(RefCommit.commit).where(RefCommit.repo_id == repo.id, RefCommit.commit.startswith(prefix)).limit(2)
        )
    )
    commits |= set(
        session.scalars(
            select(Version.commit)
            .where(Version.repo_id == repo.id, Version.commit.startswith(prefix), Version.deleted.is_(False))
            .limit(2)
        )
    )
    return by_commit(session, repo, commits.pop()) if len(commits) == 1 else None


def _exact_version(session: Session, repo: Repo, name: str) -> Version:
    found = next((v for v in live_versions(session, repo) if v.version == name), None)
    if found is None:
        raise RevisionNotFound(f"no tag or version {name!r}")
    return found


def resolve(hub: Hub, who: Principal | None, namespace: str, name: str, revision: str) -> tuple[Repo, Snapshot]:
    """``versions.resolve`` extended to every ref: what the HF routes call for a revision."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        return repo, lookup(s, repo, revision)


def branch_head(session: Session, repo: Repo, branch: str) -> Snapshot | None:
    """The head of ``branch`` (``main``: the newest un-yanked version; None for an empty repo)."""
    if branch == "main":
        try:
            return pick(live_versions(session, repo), "main")
        except RevisionNotFound:
            return None
    return _target(session, repo, named_ref(session, repo, "branch", branch), branch)


def files_of(snapshot: Snapshot | None) -> dict[str, tuple[int, str]]:
    return {f.path: (f.size, f.digest) for f in snapshot.files} if snapshot is not None else {}


def keep_snapshot(session: Session, repo: Repo, snapshot: Snapshot) -> RefCommit:
    """The ref commit for ``snapshot`` (a version's files are copied, so a ref outlives a deleted version)."""
    if isinstance(snapshot, RefCommit):
        return snapshot
    return store_commit(
        session,
        repo,
        files_of(snapshot),
        parent=None,
        author=snapshot.author,
        message=snapshot.message,
        card_json=snapshot.card_json,
        commit=snapshot.commit,
    )


def store_commit(
    session: Session,
    repo: Repo,
    files: dict[str, tuple[int, str]],
    *,
    parent: str | None,
    author: str | None,
    message: str,
    card_json: str = "{}",
    commit: str | None = None,
) -> RefCommit:
    """A ref commit with these files (the existing row when the same content was committed before)."""
    from .publish import commit_id

    entries = [FileEntry(p, size, digest) for p, (size, digest) in sorted(files.items())]
    commit = commit or commit_id(entries)
    row = session.scalar(select(RefCommit).where(RefCommit.repo_id == repo.id, RefCommit.commit == commit))
    if row is not None:
        return row
    row = RefCommit(
        repo_id=repo.id,
        commit=commit,
        parent_commit=parent,
        created_at=utcnow(),
        author=author,
        message=message,
        size=sum(e.size for e in entries),
        card_json=card_json,
    )
    row.files = [RefCommitFile(path=e.path, size=e.size, digest=e.digest) for e in entries]
    session.add(row)
    session.flush()
    return row


REF_PREFIXES = {"branch": "refs/heads/", "tag": "refs/tags/", "pr": PR_PREFIX}


def set_ref(session: Session, repo: Repo, kind: str, name: str, commit: str, author: str | None) -> None:
    """Point the ref at ``commit`` (made when new); watchers of the repo hear of the move."""
    row = named_ref(session, repo, kind, name)
    old = row.commit if row is not None else None
    if row is None:
        session.add(RepoRef(repo_id=repo.id, kind=kind, name=name, commit=commit, author=author, created_at=utcnow()))
    else:
        row.commit = commit
    session.flush()
    if old != commit:
        webhook_events.ref_moved(session, repo, REF_PREFIXES[kind] + name, old, commit)


def drop_ref(session: Session, repo: Repo, row: RepoRef) -> None:
    """Remove a named ref; watchers of the repo hear of it."""
    webhook_events.ref_moved(session, repo, REF_PREFIXES[row.kind] + row.name, row.commit, None)
    session.delete(row)


def list_refs(
    hub: Hub, who: Principal | None, namespace: str, name: str
) -> tuple[Repo, Snapshot | None, list[Version], list[RepoRef]]:
    """(repo, main's head, live versions, every named ref) for ``list_repo_refs``."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        live = live_versions(s, repo)
        refs = list(s.scalars(select(RepoRef).where(RepoRef.repo_id == repo.id).order_by(RepoRef.kind, RepoRef.name)))
    main = next((v for v in live if not v.yanked), None)
    return repo, main, live, refs


def create_branch(
    hub: Hub, who: Principal | None, namespace: str, name: str, branch: str, starting_point: str | None
) -> None:
    """A new branch at ``starting_point`` (default ``main``); 409 when the name is taken."""
    who = require_user(who)
    if branch in MAIN_NAMES or branch == "refs/heads/main":
        with hub.db.read() as s:
            require_write(who, find_repo(s, who, namespace, name).namespace)
        raise Conflict(f"Reference refs/heads/main already exists in {namespace}/{name} (the default branch)")
    check_ref_name(branch, "branch")
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        require_write(who, namespace)
        if named_ref(s, repo, "branch", branch) is not None:
            raise Conflict(f"Reference refs/heads/{branch} already exists in {namespace}/{name}")
        start = keep_snapshot(s, repo, lookup(s, repo, starting_point or "main"))
        set_ref(s, repo, "branch", branch, start.commit, who.name)
        audit.record(s, "branch.create", who.name, f"{namespace}/{name}", branch=branch, commit=start.commit)


def delete_branch(hub: Hub, who: Principal | None, namespace: str, name: str, branch: str) -> None:
    """Remove a branch pointer; ``main`` is the default branch and cannot be deleted."""
    who = require_user(who)
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        require_write(who, namespace)
        if branch in MAIN_NAMES or branch == "refs/heads/main":
            raise Forbidden("Cannot delete refs/heads/main: it is the default branch (the newest version)")
        row = named_ref(s, repo, "branch", branch.removeprefix("refs/heads/"))
        if row is None:
            raise RevisionNotFound(f"Invalid rev id: {branch} is no branch of {namespace}/{name}")
        audit.record(s, "branch.delete", who.name, f"{namespace}/{name}", branch=row.name, commit=row.commit)
        drop_ref(s, repo, row)


def create_tag(
    hub: Hub, who: Principal | None, namespace: str, name: str, tag: str, revision: str, message: str | None
) -> None:
    """Name the commit ``revision`` resolves to: a semver tag publishes it as that version."""
    who = require_user(who)
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        require_write(who, namespace)
        snapshot = lookup(s, repo, revision or "main")
        files = files_of(snapshot)
    if is_version(tag):
        if isinstance(snapshot, Version) and snapshot.version == tag:
            raise Conflict(f"tag {tag} already exists in {namespace}/{name}")
        publish_files(hub, who, repo, files, message or f"tag {tag}", tag)
        return
    check_ref_name(tag, "tag")
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        if named_ref(s, repo, "tag", tag) is not None or named_ref(s, repo, "branch", tag) is not None:
            raise Conflict(f"tag {tag} already exists in {namespace}/{name}")
        kept = keep_snapshot(s, repo, lookup(s, repo, revision or "main"))
        set_ref(s, repo, "tag", tag, kept.commit, who.name)
        audit.record(s, "tag.create", who.name, f"{namespace}/{name}", tag=tag, commit=kept.commit)


def delete_tag(hub: Hub, who: Principal | None, namespace: str, name: str, tag: str) -> None:
    """Remove a plain tag. A semver tag is a release: releases are yanked or deleted as versions
    (``hub yank`` / ``hub delete-version``), never untagged, so their names stay bound."""
    who = require_user(who)
    tag = tag.removeprefix("refs/tags/")
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        require_write(who, namespace)
        row = named_ref(s, repo, "tag", tag)
        if row is None:
            if is_version(tag) and any(v.version == tag for v in live_versions(s, repo)):
                raise Conflict(f"tag {tag} is the release {tag}; releases are immutable: yank it instead")
            raise RevisionNotFound(f"no tag {tag!r} in {namespace}/{name}")
        audit.record(s, "tag.delete", who.name, f"{namespace}/{name}", tag=tag, commit=row.commit)
        drop_ref(s, repo, row)


def publish_files(
    hub: Hub, who: Principal, repo: Repo, files: dict[str, tuple[int, str]], message: str, version: str
) -> Version:
    """Publish ``files`` of a snapshot of ``repo`` as ``version`` through the one publish path (every
    check). Whoever may publish here may read the snapshot, so its blobs count as theirs."""
    require_write(who, repo.namespace)
    _grant_blobs(hub, who, [digest for _, digest in files.values()])
    manifest = [{"path": p, "size": size, "digest": digest} for p, (size, digest) in sorted(files.items())]
    return publish(hub, who, repo.namespace, repo.name, version, manifest, message)[0]


def _grant_blobs(hub: Hub, who: Principal, digests: list[str]) -> None:
    for attempt in range(3):
        try:
            with hub.db.write() as s:
                present = set(s.scalars(select(Blob.digest).where(Blob.digest.in_(set(digests)))))
                have = set(
                    s.scalars(
                        select(BlobUpload.digest).where(
                            BlobUpload.user_id == who.user_id, BlobUpload.digest.in_(present)
                        )
                    )
                )
                for digest in sorted(present - have):
                    s.add(BlobUpload(digest=digest, user_id=who.user_id))
            return
        except IntegrityError:
            if attempt == 2:
                raise


def card_of(snapshot: Snapshot | None) -> dict:
    return json.loads(snapshot.card_json or "{}") if snapshot is not None else {}


def history(hub: Hub, who: Principal | None, namespace: str, name: str, revision: str) -> tuple[Repo, list[Snapshot]]:
    """The commits up to ``revision``, newest first: a ref's own commits (following parents), then
    the version it started from and every older version (``versions.history``)."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        top = lookup(s, repo, revision)
        chain: list[Snapshot] = []
        seen: set[str] = set()
        while isinstance(top, RefCommit) and top.commit not in seen and len(chain) < 10_000:
            seen.add(top.commit)
            released = s.scalar(
                select(Version)
                .where(Version.repo_id == repo.id, Version.deleted.is_(False), Version.commit == top.commit)
                .limit(1)
            )
            if released is not None:  # a ref made at a version: the versions' history from here
                top = released
                break
            chain.append(top)
            top = by_commit(s, repo, top.parent_commit) if top.parent_commit else None
        if isinstance(top, Version):
            live = live_versions(s, repo)
            chain += [v for v in live if sort_key(v.version) <= sort_key(top.version)]
    return repo, chain

"""What an evaluation job lets its worker read: a worker's token has scope ``evaluate`` and belongs to an
operator's account, so it cannot see a private adapter or a private eval set by itself. While the token's
worker holds a running job (it claimed it and is heard from), it may download exactly what the job names:
the adapter at the job's version and the eval set at the job's dataset version, and nothing else (no other
version, no other repo, no repo page, file list or discussion). The eval set is granted only when the
adapter's publisher may read it, so a card cannot make the evaluator fetch someone else's private data.

Only the download paths ask (``versions.resolve`` and ``versions.repo_has_blob``); everything else keeps
answering 404, with the same message as for a repo that does not exist."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Evaluation, Org, OrgMember, Repo, User, Version
from ..errors import RepoNotFound
from .auth import Principal
from .repos import find_repo, lookup_repo


def _author_reads(session: Session, author: str | None, repo: Repo) -> bool:
    """Whether the user ``author`` (a version's publisher) may read ``repo`` (public, theirs, or their org's)."""
    if not repo.private:
        return True
    if not author:
        return False
    if author == repo.namespace:
        return True
    member = session.scalar(
        select(OrgMember.user_id)
        .join(Org, Org.id == OrgMember.org_id)
        .join(User, User.id == OrgMember.user_id)
        .where(Org.name == repo.namespace, User.name == author)
        .limit(1)
    )
    return member is not None


def granted_versions(session: Session, who: Principal | None, repo: Repo, asked: str = "") -> frozenset[str]:
    """The versions of ``repo`` (asked for as ``asked``, maybe a former name) that ``who``'s running jobs name
    (empty for anyone but an ``evaluate`` token)."""
    if who is None or who.scope != "evaluate" or who.token_id is None:
        return frozenset()
    rows = session.execute(
        select(Evaluation.repo_id, Evaluation.version, Evaluation.dataset, Evaluation.dataset_revision, Version.author)
        .join(Version, Version.id == Evaluation.version_id)
        .where(Evaluation.status == "running", Evaluation.claimed_token_id == who.token_id)
    ).all()
    found = set()
    names = {f"{repo.namespace}/{repo.name}", asked}
    for repo_id, version, dataset, dataset_revision, author in rows:
        if repo_id == repo.id:
            found.add(version)
        elif repo.kind == "dataset" and dataset in names and _author_reads(session, author, repo):
            found.add(dataset_revision)
    return frozenset(found)


def find_for_download(
    session: Session, who: Principal | None, namespace: str, name: str
) -> tuple[Repo, frozenset[str] | None]:
    """``find_repo``, or for a worker's token a hidden repo its running job names: (repo, the only versions it
    may download, None when it sees the repo anyway). 404 otherwise, worded as for a missing repo."""
    try:
        return find_repo(session, who, namespace, name), None
    except RepoNotFound:
        if who is None or who.scope != "evaluate":
            raise
        repo = lookup_repo(session, namespace, name)
        granted = granted_versions(session, who, repo, f"{namespace}/{name}") if repo is not None else frozenset()
        if repo is None or not granted:
            raise
        return repo, granted

"""HF NDJSON commits that land on a ref instead of publishing a version: a commit to a branch, a
commit to ``refs/pr/N``, and ``create_commit(..., create_pr=True)``, which opens pull request N
on its own ref and never touches ``main`` (see ``refs`` for how refs relate to versions).

Who may do what: a branch takes commits from those who may write to the repo; anyone signed in
who can see the repo may open a pull request, and its author or the repo's owners may add
commits to it while it is open. Every file passes the checks a published file passes (path rule,
size limits, safetensors headers, model card), so a ref never serves what a release would refuse.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import BinaryIO

from hub_rules import MAIN_NAMES, is_commit

from ..db.models import Discussion, Repo
from ..errors import Conflict, Invalid, RevisionNotFound, ServiceError
from ..limits.quotas import check_namespace_quota
from . import discussions, refs
from .auth import Principal, require_write
from .blobs import put_blob
from .context import Hub
from .dataset_files import is_dataset
from .hf_lfs import held_files
from .hf_numbering import is_version_name, plain_revision
from .names import check_path
from .ndjson_commit import ParsedCommit, parse_spooled
from .publish import check_message, parse_files, validate_content
from .repos import find_repo

Files = dict[str, tuple[int, str]]
_ATTEMPTS = 8  # a concurrent commit to the same ref moved its head: apply again on the new head


class PreconditionFailed(ServiceError):
    """412: the commit names a parent that is no longer the head of its ref."""

    status, code, hf_code = 412, "precondition_failed", "PreconditionFailed"


@dataclass
class RefCommitResult:
    commit: str
    pull_request: int | None


def goes_to_ref(revision: str, create_pr: bool) -> bool:
    """Whether an HF commit to ``revision`` lands on a ref (branch, pull request) rather than
    publishing a version (``main``, a version name, a commit id: ``hf_commit``)."""
    rev = plain_revision(revision)
    if create_pr or rev.startswith(refs.PR_PREFIX):
        return True
    return not (rev in MAIN_NAMES or is_commit(rev) or is_version_name(rev))


def commit(
    hub: Hub, who: Principal, repo: Repo, revision: str, body: bytes | BinaryIO, create_pr: bool
) -> RefCommitResult:
    """Apply the NDJSON ``body`` to the ref ``revision`` names, or open a pull request against it."""
    parsed = parse_spooled(io.BytesIO(body) if isinstance(body, (bytes, bytearray)) else body, check_path)
    check_message(parsed.message)
    parsed.lfs = held_files(hub, who, parsed.lfs)  # sent through the LFS batch API (or copied): held blobs only
    rev = plain_revision(revision)
    num = None if create_pr else refs.pr_number(rev)
    target = ("main" if rev in MAIN_NAMES else rev) if create_pr else None
    for _attempt in range(_ATTEMPTS):
        with hub.db.read() as s:
            repo = find_repo(s, who, repo.namespace, repo.name)
            head = _head(s, who, repo, rev, num, target)
            parent = parsed.parent_commit if isinstance(parsed.parent_commit, str) else None
            if not create_pr and parent and head is not None and not head.commit.startswith(parent.lower()):
                raise PreconditionFailed(
                    f"parent commit {parent[:40]} is not the head of {rev} ({head.commit}); fetch it and commit again"
                )
            check_namespace_quota(s, who.name, hub.settings, [(f.digest, f.size) for f in parsed.added.values()])
        files = _apply(hub, who, refs.files_of(head), parsed)
        card = _checked_card(hub, files, dataset=is_dataset(repo.kind))
        try:
            return _record(hub, who, repo, rev, num, target, head, files, card, parsed)
        except _HeadMoved:
            continue
    raise Conflict(f"too many concurrent commits to {rev}; try again")


def _head(s, who: Principal, repo: Repo, rev: str, num: int | None, target: str | None):
    """The snapshot the commit applies to, after the caller's rights on that ref were checked."""
    if target is not None:  # a new pull request: anyone signed in who sees the repo
        require_write(who)
        return refs.branch_head(s, repo, target)
    if num is not None:
        pr = discussions.find(s, repo, num)
        if not pr.is_pull_request:
            raise RevisionNotFound(f"#{num} of {repo.namespace}/{repo.name} is a discussion, not a pull request")
        if who.name != pr.author:
            require_write(who, repo.namespace)
        if pr.status not in ("open", "draft"):
            raise Conflict(f"pull request #{num} is {pr.status}; reopen it to add commits")
        return refs.lookup(s, repo, rev)
    require_write(who, repo.namespace)
    if refs.named_ref(s, repo, "tag", rev) is not None:
        raise Invalid(f"{rev} is a tag and never moves; commit to a branch instead")
    if refs.named_ref(s, repo, "branch", rev) is None:
        raise RevisionNotFound(f"no branch {rev!r} in {repo.namespace}/{repo.name}; create it first (create_branch)")
    return refs.branch_head(s, repo, rev)


def _apply(hub: Hub, who: Principal, parent: Files, parsed: ParsedCommit) -> Files:
    files = {
        p: entry
        for p, entry in parent.items()
        if p not in parsed.deleted_files and not any(p.startswith(folder) for folder in parsed.deleted_folders)
    }
    for path, inline in parsed.added.items():
        digest, size = put_blob(hub, inline.open(), who.name)
        files[path] = (size, digest)
    files.update(parsed.lfs)
    return files


def _checked_card(hub: Hub, files: Files, *, dataset: bool) -> dict:
    """The checks every published file of the repo's kind passes (a dataset's: data files only);
    the model card of the result."""
    if not files:
        return {}
    entries = parse_files([{"path": p, "size": size, "digest": digest} for p, (size, digest) in files.items()], hub)
    return validate_content(hub, entries, dataset=dataset)


class _HeadMoved(Exception):
    pass


def _record(
    hub: Hub,
    who: Principal,
    repo: Repo,
    rev: str,
    num: int | None,
    target: str | None,
    head,
    files: Files,
    card: dict,
    parsed: ParsedCommit,
) -> RefCommitResult:
    with hub.db.write() as s:
        repo = find_repo(s, who, repo.namespace, repo.name)
        base = head.commit if head is not None else None
        if target is None:
            now = refs.lookup(s, repo, rev)
            if now.commit != base:
                raise _HeadMoved
        row = refs.store_commit(
            s,
            repo,
            files,
            parent=base,
            author=who.name,
            message=parsed.message,
            card_json=json.dumps(card, default=str),
        )
        if target is not None:
            pr = discussions.open_discussion(
                s,
                repo,
                who.name,
                parsed.summary or "Pull request",
                parsed.description,
                pull_request=True,
                status="open",
                target=target,
                base_commit=base,
            )
            refs.set_ref(s, repo, "pr", str(pr.num), row.commit, who.name)
            _commit_event(s, pr, who, parsed, row.commit)
            return RefCommitResult(row.commit, pr.num)
        if num is not None:
            refs.set_ref(s, repo, "pr", str(num), row.commit, who.name)
            _commit_event(s, discussions.find(s, repo, num), who, parsed, row.commit)
            return RefCommitResult(row.commit, num)
        refs.set_ref(s, repo, "branch", rev, row.commit, who.name)
        return RefCommitResult(row.commit, None)


def _commit_event(s, pr: Discussion, who: Principal, parsed: ParsedCommit, oid: str) -> None:
    discussions.add_event(s, pr, "commit", who.name, data={"subject": parsed.summary or "update", "oid": oid})


def check_preupload(hub: Hub, who: Principal, repo: Repo, revision: str, create_pr: bool) -> None:
    """The rights check of ``preupload`` for a ref: the same rule as the commit that follows."""
    rev = plain_revision(revision)
    with hub.db.read() as s:
        repo = find_repo(s, who, repo.namespace, repo.name)
        _head(
            s,
            who,
            repo,
            rev,
            None if create_pr else refs.pr_number(rev),
            ("main" if rev in MAIN_NAMES else rev) if create_pr else None,
        )


def check_commit_rights(who: Principal, namespace: str, revision: str | None, create_pr: bool) -> None:
    """The write check of the HF commit routes, before the body is read: a pull-request commit
    needs a signed-in writer (the pull request itself is checked later); any other commit needs
    write rights on the namespace."""
    if create_pr or (revision is not None and plain_revision(revision).startswith(refs.PR_PREFIX)):
        require_write(who)
    else:
        require_write(who, namespace)

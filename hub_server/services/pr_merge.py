"""Merging a pull request: the repo's owners only. The pull request's changes (its head against the
commit it was opened on) are applied to the target's current head file by file; a path both sides
changed differently is a conflict and nothing is merged. Into ``main`` the result is published as
the next version through the one publish path, so every publish check (paths, safetensors headers,
signature, quota) applies to a merge exactly as to any commit; into another branch it becomes that
branch's new head."""

from __future__ import annotations

import random
import time

from ..db.models import Discussion, Repo
from ..errors import Conflict, RevisionNotFound
from . import discussions, refs
from .auth import Principal, require_user, require_write
from .context import Hub
from .hf_numbering import choose_version, version_from_message
from .repos import find_repo, reserved_versions
from .versions import live_versions

Files = dict[str, tuple[int, str]]


def changed_paths(base: Files, head: Files) -> set[str]:
    return {p for p in base.keys() | head.keys() if base.get(p) != head.get(p)}


def three_way(base: Files, head: Files, target: Files) -> tuple[Files, list[str]]:
    """(merged files, conflicting paths): the pull request's changes applied on ``target``."""
    ours = changed_paths(base, target)
    merged = dict(target)
    conflicts = []
    for path in sorted(changed_paths(base, head)):
        if path in ours and target.get(path) != head.get(path):
            conflicts.append(path)
        elif path in head:
            merged[path] = head[path]
        else:
            merged.pop(path, None)
    return merged, conflicts


def pr_files(session, repo: Repo, pr: Discussion) -> tuple[Files, Files, Files]:
    """(base, head, target head) files of an open pull request."""
    head = refs.lookup(session, repo, f"refs/pr/{pr.num}")
    base = refs.by_commit(session, repo, pr.base_commit) if pr.base_commit else None
    try:
        target = refs.branch_head(session, repo, pr.target_branch or "main")
    except RevisionNotFound:
        raise Conflict(f"the target branch {pr.target_branch} of pull request #{pr.num} no longer exists") from None
    return refs.files_of(base), refs.files_of(head), refs.files_of(target)


def conflicts_of(hub: Hub, repo: Repo, pr: Discussion) -> list[str]:
    """Paths that would conflict if the pull request were merged now (``filesWithConflicts``)."""
    if not pr.is_pull_request or pr.status not in ("open", "draft"):
        return []
    with hub.db.read() as s:
        return three_way(*pr_files(s, repo, pr))[1]


def merge(hub: Hub, who: Principal | None, namespace: str, name: str, num: int, comment: object = None) -> Discussion:
    who = require_user(who)
    text = discussions.check_comment(comment, required=False) if comment is not None else ""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        require_write(who, namespace)
        pr = discussions.find(s, repo, num)
        if not pr.is_pull_request:
            raise Conflict(f"#{num} is a discussion, not a pull request")
        if pr.status != "open":
            hint = "; open it first" if pr.status == "draft" else ""
            raise Conflict(f"pull request #{num} is {pr.status}{hint}")
        base, head, target = pr_files(s, repo, pr)
        head_commit = refs.lookup(s, repo, f"refs/pr/{num}").commit
    files, conflicts = three_way(base, head, target)
    if conflicts:
        raise Conflict(
            f"pull request #{num} conflicts with {pr.target_branch or 'main'} on: {', '.join(conflicts[:20])}"
        )
    message = f"{pr.title}\n\nMerge pull request #{num} by {pr.author}"
    if (pr.target_branch or "main") == "main":
        version = _publish_next(hub, who, repo, files, pr.title, message)
        merge_commit, merged_version = version.commit, version.version
    else:
        merge_commit, merged_version = _merge_into_branch(hub, who, repo, pr, files, message), None
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        pr = discussions.find(s, repo, num)
        if pr.status != "open" or refs.lookup(s, repo, f"refs/pr/{num}").commit != head_commit:
            raise Conflict(f"pull request #{num} changed while it was being merged; look again")
        if text.strip():
            discussions.add_event(s, pr, "comment", who.name, content=text)
        pr.status, pr.merge_commit, pr.merged_version = "merged", merge_commit, merged_version
        discussions.add_event(s, pr, "status-change", who.name, data={"status": "merged"})
        return pr


def _merge_into_branch(hub: Hub, who: Principal, repo: Repo, pr: Discussion, files: Files, message: str) -> str:
    with hub.db.write() as s:
        repo = find_repo(s, who, repo.namespace, repo.name)
        head = refs.branch_head(s, repo, pr.target_branch)
        row = refs.store_commit(s, repo, files, parent=head.commit if head else None, author=who.name, message=message)
        refs.set_ref(s, repo, "branch", pr.target_branch, row.commit, who.name)
        return row.commit


def _publish_next(hub: Hub, who: Principal, repo: Repo, files: Files, title: str, message: str):
    """Publish under the next version name (``version: X.Y.Z`` in the title names it); a number
    taken by a concurrent publish is retried."""
    for attempt in range(16):
        if attempt:
            time.sleep(random.uniform(0.0, 0.02 * attempt))
        with hub.db.read() as s:
            live = [v.version for v in live_versions(s, find_repo(s, who, repo.namespace, repo.name))]
        name = choose_version(
            summary=title, description="", url_revision="main", existing=live, reserved=reserved_versions(hub, repo)
        )
        try:
            return refs.publish_files(hub, who, repo, files, message, name)
        except Conflict:
            if name == version_from_message(title, ""):
                raise  # a name the title chose: its conflict is the owner's to see
    raise Conflict("too many concurrent publishes; try the merge again")

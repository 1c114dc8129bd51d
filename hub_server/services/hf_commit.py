"""An HF NDJSON commit becomes a new immutable hub version, through the native services.

``huggingface_hub`` sends one JSON object per line: a ``header`` (summary, description,
parentCommit), then ``file`` lines carrying base64 content, ``lfsFile`` lines naming by sha256 a
blob the caller already sent (through the LFS batch API or Xet, see ``hf_lfs`` and ``xet_cas``),
and ``deletedFile``/``deletedFolder`` lines. Files not mentioned are kept from the parent
version, exactly like a git commit. Every file is hashed and validated like any other upload. The bytes become
blobs (``blobs.put_blob``) and the file list is published by ``publish.publish`` under the
name ``hf_numbering`` picks; a commit that changes nothing publishes nothing.
"""

from __future__ import annotations

import io
import random
import time
from typing import BinaryIO

from hub_rules import is_commit

from ..db.models import Repo, Version
from ..errors import Conflict, RevisionNotFound, Unprocessable
from ..limits.quotas import check_namespace_quota
from . import dataset_files, names, versions
from .auth import Principal
from .blobs import put_blob
from .context import Hub
from .dataset_files import is_dataset
from .hf_lfs import held_files
from .hf_numbering import choose_version, version_from_message
from .ndjson_commit import ParsedCommit, parse_spooled
from .publish import ANY_HEAD, HeadMoved, check_message, publish
from .repos import reserved_versions


class PathInvalid(Unprocessable):
    """An invalid file path in an HF commit or preupload: 422, as the HF Hub answers it."""

    hf_status = 422


def check_path(path: str) -> str:
    """The hub's one path rule (``names.check_path``), answered 422 the HF way."""
    try:
        return names.check_path(path)
    except Unprocessable as exc:
        raise PathInvalid(exc.message) from None


# Each lost race means another commit won a number, so N racers need at most N attempts.
_NUMBERING_ATTEMPTS = 32

Files = dict[str, tuple[int, str]]  # path -> (size, "sha256:<hex>")


def parse_ndjson(body: bytes | BinaryIO) -> ParsedCommit:
    """The commit's operations; ``body`` is the NDJSON (bytes, or the spooled file of a request)."""
    spool = io.BytesIO(body) if isinstance(body, (bytes, bytearray)) else body
    return parse_spooled(spool, check_path)


class PreconditionFailed(Conflict):
    """HF's answer to a stale ``parentCommit``: 412 with the Hub's own message."""

    status, hf_code = 412, "PreconditionFailed"


STALE_PARENT = "The branch was updated since you opened this page. Please refresh and try again."
# A commit without parentCommit is rebuilt on the new head when another one landed first.
_HEAD_ATTEMPTS = 16


def commit(hub: Hub, who: Principal, repo: Repo, revision: str, body: bytes | BinaryIO) -> Version:
    """Apply the NDJSON ``body`` on top of ``revision`` (``main``, a version or a commit id; a new
    version name otherwise) and publish the result; ``who`` was checked for write rights.

    On ``main`` the result is published only if ``main`` is still the parent it was built on
    (``publish(expect_head=...)``): a stale ``parentCommit`` is a 412 and nothing is published;
    without one, the commit is applied again on the new head, as git's server-side merge of
    disjoint changes, so no concurrent commit's files are lost."""
    parsed = parse_ndjson(body)
    check_message(parsed.message)  # before any blob is stored
    parsed.lfs = held_files(hub, who, parsed.lfs)  # sizes of copied LFS files; each blob one the caller holds
    for path, inline in parsed.added.items() if is_dataset(repo.kind) else ():
        dataset_files.check_stream(path, inline.open())  # a dataset's refused file stores nothing
    with hub.db.read() as s:
        check_namespace_quota(
            s,
            repo.namespace,
            hub.settings,
            [(f.digest, f.size) for f in parsed.added.values()] + list(map(_swap, parsed.lfs.values())),
        )
    added = _store_added(hub, who, parsed)
    for _ in range(_HEAD_ATTEMPTS):
        _, live = versions.list_versions(hub, who, repo.namespace, repo.name)
        parent_ref = (
            revision if revision == "main" or is_commit(revision) or revision in {v.version for v in live} else "main"
        )
        try:
            parent = versions.pick(live, parent_ref)
        except RevisionNotFound:
            if parent_ref != "main":
                raise
            parent = None
        on_main = parent_ref == "main"
        head = parent.commit if parent is not None else None
        if parsed.parent_commit and on_main and parsed.parent_commit != head:
            raise PreconditionFailed(STALE_PARENT)
        before: Files = {f.path: (f.size, f.digest) for f in parent.files} if parent else {}
        after = _apply(before, parsed, added)
        if parent is not None and after == before:
            return parent  # nothing changed: no empty version
        try:
            return _publish_numbered(
                hub, who, repo, after, parsed, revision, [v.version for v in live], head if on_main else ANY_HEAD
            )
        except HeadMoved:
            if parsed.parent_commit:
                raise PreconditionFailed(STALE_PARENT) from None
    raise Conflict("too many concurrent commits; try again")


def _store_added(hub: Hub, who: Principal, commit: ParsedCommit) -> Files:
    """Store the added bytes as blobs (once, whatever the retries): path -> (size, digest)."""
    stored: Files = {}
    for path, inline in commit.added.items():
        digest, size = put_blob(hub, inline.open(), who.name)
        stored[path] = (size, digest)
    return stored


def _apply(parent: Files, commit: ParsedCommit, added: Files) -> Files:
    """The new version's full file list: the parent's, less the deleted, plus the added."""
    files = {
        path: entry
        for path, entry in parent.items()
        if path not in commit.deleted_files and not any(path.startswith(folder) for folder in commit.deleted_folders)
    }
    files.update(added)
    files.update(commit.lfs)  # sent through the LFS batch API; publish checks the caller holds each blob
    return files


def _swap(entry: tuple[int, str]) -> tuple[str, int]:
    return entry[1], entry[0]


def _publish_numbered(
    hub: Hub,
    who: Principal,
    repo: Repo,
    files: Files,
    parsed: ParsedCommit,
    revision: str,
    live: list[str],
    expect_head: object,
) -> Version:
    """Publish under the chosen name; an automatic number lost to a concurrent commit is retried.
    Every name ever used counts (deleted versions, those of a deleted repo of the same name)."""
    manifest = [{"path": path, "size": size, "digest": digest} for path, (size, digest) in sorted(files.items())]
    for attempt in range(_NUMBERING_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.0, 0.02 * attempt))  # spread the racers out
        name = choose_version(
            summary=parsed.summary,
            description=parsed.description,
            url_revision=revision,
            existing=live,
            reserved=reserved_versions(hub, repo),
        )
        try:
            return publish(
                hub,
                who,
                repo.namespace,
                repo.name,
                name,
                manifest,
                parsed.message,
                expect_head=expect_head,
                allow_empty=True,
            )[0]
        except HeadMoved:
            raise
        except Conflict:
            live = [v.version for v in versions.list_versions(hub, who, repo.namespace, repo.name)[1]]
            if name in (revision, version_from_message(parsed.summary, parsed.description)):
                raise  # a name the caller chose: its conflict is theirs to see
    raise Conflict("too many concurrent commits; try again")

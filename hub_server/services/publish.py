"""Publishing a version: validate the manifest (paths, sizes, every blob present,
safetensors headers, model card), then commit it in one transaction. Same manifest
again → the existing version (idempotent); a different one or a reused name → conflict."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub_rules import (
    MAX_EVAL_RESULTS_BYTES,
    CardInvalid,
    DeclaredEval,
    MessageTooLong,
    ModelIndexInvalid,
    PathRefused,
    VersionInvalid,
    check_not_pickle_content,
    declared_evals,
    is_eval_results_path,
    load_yaml,
)
from hub_rules import check_message as rules_check_message
from hub_rules import check_version as rules_check_version
from hub_rules import commit_id as rules_commit_id

from ..db.models import Version, VersionFile, utcnow
from ..errors import Conflict, Invalid, MissingBlobs, TooLarge, Unprocessable
from ..limits.quotas import check_namespace_quota
from ..storage.base import BlobNotFound
from . import audit, dataset_files, evaluations, webhook_events
from . import capabilities as capability_index
from .auth import Principal, require_write
from .blobs import known_digests, touch_blobs
from .card import parse_front_matter
from .context import Hub
from .dataset_files import is_dataset
from .names import check_manifest_paths, check_path
from .repos import find_repo, tombstoned_commit
from .safetensors_check import header_length, read_header, validate
from .signatures import check_signature
from .storage_check import check_digest_field
from .versions import live_versions, refresh_latest
from .webhook_payloads import main_head

CARD_LIMIT = 1024 * 1024


def check_message(message: str) -> str:
    """The message whole, or a 413 with the shared rule's line (``hub_rules.check_message``)."""
    try:
        return rules_check_message(message)
    except MessageTooLong as exc:
        raise TooLarge(str(exc)) from None


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    digest: str


def commit_id(files: list[FileEntry]) -> str:
    """The shared commit rule (``hub_rules.commit_id``) over this version's files."""
    return rules_commit_id((f.path, f.digest, f.size) for f in files)


def parse_files(raw: Any, hub: Hub, *, allow_empty: bool = False) -> list[FileEntry]:
    """The manifest's entries; empty only where ``allow_empty`` (an HF commit deleting the last file)."""
    if not isinstance(raw, list) or not (raw or allow_empty):
        raise Unprocessable("a version needs a non-empty list of files")
    if len(raw) > hub.settings.max_files_per_version:
        raise TooLarge(f"{len(raw)} files exceed the limit of {hub.settings.max_files_per_version}")
    files, seen = [], set()
    for item in raw:
        if not isinstance(item, dict):
            raise Unprocessable("each file must be an object with path, size and digest")
        path = check_path(item.get("path"))
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Unprocessable(f"{path}: size must be a non-negative integer")
        if size > hub.settings.max_file_bytes:
            raise TooLarge(f"{path}: {size} bytes exceed the limit of {hub.settings.max_file_bytes}")
        if path in seen:
            raise Unprocessable(f"{path}: listed twice")
        seen.add(path)
        files.append(FileEntry(path, size, check_digest_field(item.get("digest"), path)))
    check_manifest_paths([f.path for f in files])
    return files


class HeadMoved(Conflict):
    """``main`` is no longer the commit the new version was built on (``expect_head``)."""


ANY_HEAD = object()


def publish(
    hub: Hub,
    who: Principal | None,
    namespace: str,
    name: str,
    version: str,
    raw_files: Any,
    message: str = "",
    *,
    expect_head: object = ANY_HEAD,
    allow_empty: bool = False,
) -> tuple[Version, bool]:
    """Return (version, created). Raises Conflict / MissingBlobs / Unprocessable.

    ``expect_head``: the commit ``main`` must still be (None: the repo has no version yet), checked
    in the same write transaction as the insert, so of two commits built on one head exactly one
    lands and the other gets ``HeadMoved`` (the HF view's compare-and-swap). ``allow_empty``: a
    version without files (an HF commit that deletes the last file, as git and the HF Hub allow)."""
    with hub.db.read() as s:
        kind = find_repo(s, who, namespace, name).kind  # private repos stay 404 to outsiders, before any 403
    who = require_write(who, namespace)
    message = check_message(str(message or ""))
    try:
        rules_check_version(version)
    except VersionInvalid as exc:
        raise Invalid(str(exc)) from None
    files = parse_files(raw_files, hub, allow_empty=allow_empty)
    commit = commit_id(files)
    with hub.db.write() as s:  # committed at once: gc leaves them during the checks below, and after a
        touch_blobs(s, (f.digest for f in files))  # MissingBlobs the client re-sends only what is missing
    with hub.db.read() as s:
        existing = _existing(s, namespace, name, version)
        if existing is not None:
            return _same_or_conflict(existing, commit, version), False
        _check_tombstone(s, find_repo(s, who, namespace, name), version, commit)
        _check_blobs(s, who, files)
        check_namespace_quota(s, namespace, hub.settings, ((f.digest, f.size) for f in files))
    checked = check_content(hub, files, dataset=is_dataset(kind))
    card = checked.card
    config = capability_index.read_adapter_config(files, lambda digest, size: _read(hub, digest, 0, size - 1))
    indexed_capabilities = capability_index.index(kind, card, config)
    signer = check_signature(hub, who, files)
    try:
        with hub.db.write() as s:
            repo = find_repo(s, who, namespace, name)
            existing = _existing(s, namespace, name, version)
            if existing is not None:
                return _same_or_conflict(existing, commit, version), False
            _check_tombstone(s, repo, version, commit)
            if expect_head is not ANY_HEAD:
                _check_head(s, repo, expect_head)
            check_namespace_quota(s, namespace, hub.settings, ((f.digest, f.size) for f in files), hold=True)
            _keep_blobs(hub, s, files)
            old_head = main_head(s, repo)
            row = Version(
                repo_id=repo.id,
                version=version,
                commit=commit,
                created_at=utcnow(),
                author=who.name,
                message=message,
                size=sum(f.size for f in files),
                card_json=json.dumps(card, default=str),
                capabilities_json=indexed_capabilities,
                signed_by=signer.user if signer else None,
                signing_key=signer.fingerprint if signer else None,
            )
            row.files = [VersionFile(path=f.path, size=f.size, digest=f.digest) for f in files]
            s.add(row)
            s.flush()
            refresh_latest(s, repo)  # re-indexes the repo from its latest live version
            audit.record(
                s,
                "version.publish",
                who.name,
                f"{namespace}/{name}@{version}",
                commit=commit,
                files=len(files),
                size=row.size,
            )
            jobs = evaluations.record_declared(s, repo, row, card, checked.declared)
            webhook_events.version_changed(s, repo, row, old_head)
        evaluations.send(hub, jobs)  # after the commit: a worker never claims a job it cannot read
        return row, True
    except IntegrityError:  # a concurrent publisher won the race on PostgreSQL
        with hub.db.read() as s:
            existing = _existing(s, namespace, name, version)
            if existing is None:
                raise
            return _same_or_conflict(existing, commit, version), False


def _check_head(session, repo, expected: object) -> None:
    """Lock the repo row (PostgreSQL; SQLite's write transaction already holds the lock) and
    compare ``main`` with ``expected``."""
    from ..db.models import Repo

    session.execute(select(Repo.id).where(Repo.id == repo.id).with_for_update())
    head = next((v for v in live_versions(session, repo) if not v.yanked), None)
    if (head.commit if head is not None else None) != expected:
        raise HeadMoved("main moved since this commit's parent was read")


def _existing(session, namespace: str, name: str, version: str) -> Version | None:
    from ..db.models import Repo

    return session.scalar(
        select(Version)
        .join(Repo, Repo.id == Version.repo_id)
        .where(Repo.namespace == namespace, Repo.name == name, Version.version == version)
    )


def _same_or_conflict(existing: Version, commit: str, version: str) -> Version:
    if existing.deleted:
        raise Conflict(f"version {version} was deleted; its name cannot be reused")
    if existing.commit != commit:
        raise Conflict(f"version {version} already exists with different content (commit {existing.commit})")
    return existing


def _check_tombstone(session, repo, version: str, commit: str) -> None:
    old = tombstoned_commit(session, repo, version)
    if old is not None and old != commit:
        raise Conflict(
            f"version {version} of {repo.namespace}/{repo.name} existed before the repository was "
            f"deleted (commit {old}); its name cannot be reused with other content"
        )


def _check_blobs(session, who: Principal, files: list[FileEntry]) -> None:
    """Every blob must be known to the publisher (see blobs.py): otherwise they upload the bytes."""
    known = known_digests(session, who, (f.digest for f in files))
    missing = sorted({f.digest for f in files if f.digest not in known})
    if missing:
        raise MissingBlobs(f"upload these blobs first: {', '.join(missing)}", digests=missing)
    for f in files:
        if known[f.digest] != f.size:
            raise Unprocessable(f"{f.path}: size {f.size} does not match the stored blob ({known[f.digest]} bytes)")


def _keep_blobs(hub: Hub, session, files: list[FileEntry]) -> None:
    """Inside the publish transaction: refresh every blob row (so gc leaves it) and prove it still exists."""
    gone = touch_blobs(session, (f.digest for f in files))
    gone |= {f.digest for f in files if f.digest not in gone and not hub.store.exists(f.digest)}
    if gone:
        missing = sorted(gone)
        raise MissingBlobs(f"upload these blobs first: {', '.join(missing)}", digests=missing)


def _read(hub: Hub, digest: str, start: int, end: int) -> bytes:
    return b"".join(hub.store.open(digest, start, end))


@dataclass(frozen=True)
class CheckedContent:
    card: dict
    declared: list[DeclaredEval]  # what it asks this hub to verify: model-index and .eval_results/*.yaml


def check_content(hub: Hub, files: list[FileEntry], *, dataset: bool = False) -> CheckedContent:
    try:
        for f in files if dataset else ():  # a dataset holds data files only (hub_rules.data_files)
            dataset_files.check_blob(hub, f.path, f.digest, f.size)
        card, eval_results = _validate_files(hub, files)
    except BlobNotFound as exc:  # collected since the check above: the client uploads it again
        digests = sorted({f.digest for f in files if not hub.store.exists(f.digest)})
        raise MissingBlobs(f"upload these blobs first: {', '.join(digests)}", digests=digests) from exc
    try:
        declared = declared_evals(card, eval_results)  # hub_rules.eval_index
    except ModelIndexInvalid as exc:
        message = str(exc)
        raise Unprocessable(f"README.md: {message}" if message.startswith("model-index") else message) from None
    return CheckedContent(card, declared)


def validate_content(hub: Hub, files: list[FileEntry], *, dataset: bool = False) -> dict:
    """Every check a published file passes; the model card."""
    return check_content(hub, files, dataset=dataset).card


def _refuse_pickle(hub: Hub, f: FileEntry) -> None:
    """A file whose bytes are (or hold) a pickle, whatever its name: 422 (``hub_rules.pickles``)."""
    try:
        check_not_pickle_content(f.path, lambda start, length: _read(hub, f.digest, start, start + length - 1), f.size)
    except PathRefused as exc:
        raise Unprocessable(str(exc)) from None


def _eval_results_file(hub: Hub, f: FileEntry) -> Any:
    """One ``.eval_results/*.yaml`` file, parsed by the safe YAML rules (422 with one line otherwise)."""
    if f.size > MAX_EVAL_RESULTS_BYTES:
        raise Unprocessable(f"{f.path} is larger than {MAX_EVAL_RESULTS_BYTES} bytes")
    try:
        text = (_read(hub, f.digest, 0, f.size - 1) if f.size else b"").decode("utf-8")
        return load_yaml(text, max_bytes=MAX_EVAL_RESULTS_BYTES, what=f.path)
    except UnicodeDecodeError:
        raise Unprocessable(f"{f.path} is not UTF-8 text") from None
    except CardInvalid as exc:
        raise Unprocessable(str(exc)) from None


def _validate_files(hub: Hub, files: list[FileEntry]) -> tuple[dict, dict[str, Any]]:
    """(model card, parsed ``.eval_results/*.yaml`` by path) once every file passed its checks."""
    card: dict = {}
    eval_results: dict[str, Any] = {}
    for f in files:
        if f.path.lower().endswith(".safetensors"):  # a valid header proves it is no pickle
            prefix = _read(hub, f.digest, 0, 7) if f.size >= 8 else b""
            length = header_length(prefix, f.size, hub.settings.max_header_bytes, f.path)
            header = read_header(hub.store.open(f.digest, 8, 8 + length - 1), length) if length else b""
            validate(header, f.size, f.path)
        else:
            _refuse_pickle(hub, f)
        if f.path == "README.md":
            if f.size > CARD_LIMIT:
                raise Unprocessable(f"README.md is larger than {CARD_LIMIT} bytes")
            raw = _read(hub, f.digest, 0, f.size - 1) if f.size else b""
            try:
                card = parse_front_matter(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise Unprocessable("README.md is not UTF-8 text") from None
        elif is_eval_results_path(f.path):
            eval_results[f.path] = _eval_results_file(hub, f)
    return card, eval_results

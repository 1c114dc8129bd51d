"""The real ``HfBackend``: the HF-compatible routes served from the same SQL services
and blob store as the native API (one store, two protocol views)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from sqlalchemy import select

from .. import errors
from ..db.models import Repo, Version
from . import hf_backend as hf
from . import publish as publishing
from . import repos, search, versions
from ..limits.quotas import check_namespace_quota
from .auth import Principal, authenticate, require_write
from .context import Hub
from .blobs import record_blob
from .download_counts import count_hf_download
from .downloads import storage_redirect_url


@contextmanager
def _translated(not_found: type[hf.HfBackendError] = hf.RepoNotFound):
    try:
        yield
    except errors.NotFound as exc:
        raise not_found(exc.message) from None
    except errors.Unauthorized as exc:
        raise hf.Unauthorized(exc.message) from None
    except errors.Forbidden as exc:
        raise hf.Forbidden(exc.message) from None
    except errors.Conflict as exc:
        raise hf.Conflict(exc.message) from None
    except (errors.TooLarge, errors.QuotaExceeded) as exc:
        raise hf.TooLarge(exc.message) from None
    except errors.ServiceError as exc:
        raise hf.Invalid(exc.message) from None


def _principal(who: hf.HfPrincipal | None) -> Principal | None:
    return None if who is None else Principal(user_id=0, name=who.name, orgs=tuple(who.orgs), scope=who.scope)


def _version(row: Version) -> hf.HfVersion:
    return hf.HfVersion(
        version=row.version, commit=row.commit, created_at=row.created_at, author=row.author, yanked=row.yanked,
        files=tuple(hf.HfFile(f.path, f.size, f.digest) for f in row.files),
        card=json.loads(row.card_json or "{}"), message=row.message,
    )


class SqlHfBackend:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def authenticate(self, token: str | None) -> hf.HfPrincipal | None:
        with _translated():
            who = authenticate(self.hub.db, token)
        return None if who is None else hf.HfPrincipal(who.name, who.orgs, who.scope)

    def _repo(self, row: Repo) -> hf.HfRepo:
        metadata = json.loads(row.metadata_json or "{}")
        card = {}
        if row.latest_version:
            with self.hub.db.read() as s:
                raw = s.scalar(select(Version.card_json).where(Version.repo_id == row.id,
                                                                Version.version == row.latest_version))
                card = json.loads(raw or "{}")
        return hf.HfRepo(
            namespace=row.namespace, name=row.name, kind=row.kind, private=row.private, downloads=row.downloads,
            created_at=row.created_at, updated_at=row.updated_at, latest_version=row.latest_version,
            tags=tuple(metadata.get("tags") or ()), card=card,
        )

    def get_repo(self, who, namespace: str, name: str) -> hf.HfRepo:
        with _translated():
            return self._repo(repos.get_repo(self.hub, _principal(who), namespace, name))

    def resolve(self, who, repo: hf.HfRepo, revision: str) -> hf.HfVersion:
        with _translated(hf.RevisionNotFound):
            with self.hub.db.read() as s:
                row = repos.find_repo(s, _principal(who), repo.namespace, repo.name)
                return _version(versions.pick(versions.live_versions(s, row), revision))

    def list_versions(self, who, repo: hf.HfRepo) -> list[hf.HfVersion]:
        with _translated():
            _, rows = versions.list_versions(self.hub, _principal(who), repo.namespace, repo.name)
            return [_version(v) for v in rows]

    def search(self, who, *, text, author, tags, limit) -> list[hf.HfRepo]:
        with _translated():
            found = search.search(self.hub, _principal(who), q=text or None, namespace=author or None,
                                  tag=tags[0] if tags else None, limit=max(1, min(int(limit or 100), 100)))
        out = []
        with _translated():
            for item in found["items"]:
                if set(tags) <= set(item["metadata"]["tags"]):
                    out.append(self.get_repo(who, item["namespace"], item["name"]))
        return out

    def download_url(self, digest: str, filename: str) -> str | None:
        return storage_redirect_url(self.hub, digest, filename)

    def open_blob(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        with _translated(hf.EntryNotFound):
            return self.hub.store.open(digest, start, end)

    def create_repo(self, who, namespace: str, name: str, *, kind: str, private: bool) -> hf.HfRepo:
        with _translated():
            return self._repo(repos.create_repo(self.hub, _principal(who), namespace, name, kind=kind,
                                                private=private))

    def check_write(self, who, repo: hf.HfRepo) -> None:
        with _translated():
            require_write(_principal(who), repo.namespace)

    def check_quota(self, repo: hf.HfRepo, blobs: list[tuple[str, int]]) -> None:
        with _translated(), self.hub.db.read() as s:
            check_namespace_quota(s, repo.namespace, self.hub.settings, blobs)

    def put_blob(self, who, stream: BinaryIO) -> hf.HfFile:
        with _translated():
            digest, size = self.hub.store.put(stream)
            record_blob(self.hub, digest, size, uploader=who.name if who is not None else None)
        return hf.HfFile("", size, digest)

    def publish(self, who, repo: hf.HfRepo, version: str, files: list[hf.HfFile], message: str) -> hf.HfVersion:
        raw = [{"path": f.path, "size": f.size, "digest": f.digest} for f in files]
        with _translated():
            row, _ = publishing.publish(self.hub, _principal(who), repo.namespace, repo.name, version, raw, message)
            return self.resolve(who, repo, row.version)

    def record_download(self, repo: hf.HfRepo, version: hf.HfVersion) -> None:
        count_hf_download(self.hub, repo.namespace, repo.name, version.commit)

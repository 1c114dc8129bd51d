"""A small file-backed ``HfBackend`` so the HF protocol layer runs in a real server.

It keeps repos and versions in memory and blobs as files named by sha256, with the
hub's rules (immutable versions, names never reused, private repos hidden, write
rights on the namespace, pickles refused).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from hub_server.services.hf_backend import (
    Conflict,
    EntryNotFound,
    Forbidden,
    HfFile,
    HfPrincipal,
    HfRepo,
    HfVersion,
    Invalid,
    RepoNotFound,
    RevisionNotFound,
    Unauthorized,
)
from hub_server.services.hf_commit import check_path
from hub_server.services.hf_numbering import _key


def commit_id(files: list[HfFile]) -> str:
    manifest = sorted([f.path, f.digest, f.size] for f in files)
    canonical = json.dumps(manifest, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _card_of(data: bytes) -> dict:
    import yaml

    text = data.decode("utf-8", "replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    front = yaml.safe_load(text[3:end]) if end > 0 else None
    return front if isinstance(front, dict) else {}


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        self.tokens: dict[str, HfPrincipal] = {}
        self.repos: dict[str, HfRepo] = {}
        self.versions: dict[str, list[HfVersion]] = {}
        self.blob_reads = 0
        self._lock = threading.Lock()

    # -- auth
    def add_token(self, token: str, user: str, scope: str = "write", orgs: tuple[str, ...] = ()) -> str:
        self.tokens[token] = HfPrincipal(user, orgs, scope)
        return token

    def authenticate(self, token):
        if token is None:
            return None
        if token not in self.tokens:
            raise Unauthorized("invalid token")
        return self.tokens[token]

    def _can_write(self, who, namespace):
        return who is not None and who.scope in ("write", "admin") and (
            namespace == who.name or namespace in who.orgs
        )

    def _visible(self, who, repo):
        return not repo.private or (who is not None and (repo.namespace == who.name or repo.namespace in who.orgs))

    # -- reads
    def get_repo(self, who, namespace, name):
        repo = self.repos.get(f"{namespace}/{name}")
        if repo is None or not self._visible(who, repo):
            raise RepoNotFound(f"{namespace}/{name} not found")
        return repo

    def list_versions(self, who, repo):
        return sorted(self.versions.get(repo.id, []), key=lambda v: _key(v.version), reverse=True)

    def resolve(self, who, repo, revision):
        versions = self.list_versions(who, repo)
        if revision == "main":
            live = [v for v in versions if not v.yanked]
            if live:
                return live[0]
        for v in versions:
            if revision in (v.version, v.commit):
                return v
        raise RevisionNotFound(f"{repo.id} has no revision {revision}")

    def search(self, who, *, text, author, tags, limit):
        found = []
        for repo in self.repos.values():
            if not self._visible(who, repo) or (author and repo.namespace != author):
                continue
            if text and text.lower() not in repo.id.lower():
                continue
            card_tags = set(repo.card.get("tags") or []) | {repo.card.get("library_name"), repo.kind}
            if any(t not in card_tags for t in tags):
                continue
            found.append(repo)
        return found[:limit]

    def open_blob(self, digest, start, end):
        self.blob_reads += 1
        path = self.root / "blobs" / digest.split(":", 1)[1]
        with path.open("rb") as fh:
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    def record_download(self, repo, version):
        self.repos[repo.id] = replace(self.repos[repo.id], downloads=self.repos[repo.id].downloads + 1)

    # -- writes
    def create_repo(self, who, namespace, name, *, kind, private):
        if not self._can_write(who, namespace):
            raise Forbidden(f"no write access to namespace {namespace}")
        with self._lock:
            if f"{namespace}/{name}" in self.repos:
                raise Conflict(f"{namespace}/{name} already exists")
            now = datetime.now(timezone.utc)
            repo = HfRepo(namespace, name, kind=kind, private=private, created_at=now, updated_at=now)
            self.repos[repo.id] = repo
            self.versions[repo.id] = []
            return repo

    def put_blob(self, who, stream):
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=self.root, delete=False) as tmp:
            size = 0
            while chunk := stream.read(1 << 16):
                digest.update(chunk)
                tmp.write(chunk)
                size += len(chunk)
        shutil.move(tmp.name, self.root / "blobs" / digest.hexdigest())
        return HfFile(path="", size=size, digest=f"sha256:{digest.hexdigest()}")

    def publish(self, who, repo, version, files, message):
        if not self._can_write(who, repo.namespace):
            raise Forbidden(f"no write access to namespace {repo.namespace}")
        for f in files:
            check_path(f.path)
            if not (self.root / "blobs" / f.sha256).exists():
                raise Invalid(f"missing blob for {f.path}")
        with self._lock:
            if any(v.version == version for v in self.versions[repo.id]):
                raise Conflict(f"version {version} already exists")
            readme = next((f for f in files if f.path == "README.md"), None)
            card = _card_of((self.root / "blobs" / readme.sha256).read_bytes()) if readme else {}
            made = HfVersion(
                version=version, commit=commit_id(files), created_at=datetime.now(timezone.utc),
                author=who.name, files=tuple(files), card=card, message=message,
            )
            self.versions[repo.id].append(made)
            self.repos[repo.id] = replace(repo, card=card, latest_version=version, updated_at=made.created_at)
            return made

    def yank(self, repo_id, version):
        self.versions[repo_id] = [replace(v, yanked=True) if v.version == version else v for v in self.versions[repo_id]]


__all__ = ["LocalBackend", "EntryNotFound"]

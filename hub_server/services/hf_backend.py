"""The narrow port the Hugging Face-compatible routes need from the hub.

The HF protocol is a second *view* of the same data (repos, immutable versions, files
pointing at sha256 blobs), never a second store. Keeping that view behind this small
protocol lets the HF routes stay pure protocol translation, testable on their own,
while the hub's SQL services provide the one real implementation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Iterator, Protocol


class HfBackendError(Exception):
    """Base of the errors a backend raises; each maps to one HF error code/status."""

    status = 400
    code = "BadRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RepoNotFound(HfBackendError):
    status, code = 404, "RepoNotFound"


class RevisionNotFound(HfBackendError):
    status, code = 404, "RevisionNotFound"


class EntryNotFound(HfBackendError):
    status, code = 404, "EntryNotFound"


class Unauthorized(HfBackendError):
    status, code = 401, "Unauthorized"


class Forbidden(HfBackendError):
    status, code = 403, "Forbidden"


class Conflict(HfBackendError):
    status, code = 409, "Conflict"


class Invalid(HfBackendError):
    status, code = 400, "BadRequest"


class TooLarge(HfBackendError):
    status, code = 413, "TooLarge"


@dataclass(frozen=True)
class HfPrincipal:
    """Who is calling: a user with the orgs they belong to and the token's scope."""

    name: str
    orgs: tuple[str, ...] = ()
    scope: str = "read"  # read | write | admin


@dataclass(frozen=True)
class HfFile:
    path: str
    size: int
    digest: str  # "sha256:<hex>"

    @property
    def sha256(self) -> str:
        return self.digest.split(":", 1)[1]


@dataclass(frozen=True)
class HfVersion:
    """One immutable version; ``commit`` is the 40-hex id the HF protocol calls a revision sha."""

    version: str
    commit: str
    created_at: datetime
    author: str | None = None
    yanked: bool = False
    files: tuple[HfFile, ...] = ()
    card: dict = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class HfRepo:
    namespace: str
    name: str
    kind: str = "adapter"  # adapter | base
    private: bool = False
    downloads: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    latest_version: str | None = None
    tags: tuple[str, ...] = ()
    card: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


class HfBackend(Protocol):
    """What the HF routes ask of the hub. Invisible private repos raise ``RepoNotFound``."""

    def authenticate(self, token: str | None) -> HfPrincipal | None:
        """None for anonymous; raises ``Unauthorized`` for a token that is not valid."""

    def get_repo(self, who: HfPrincipal | None, namespace: str, name: str) -> HfRepo: ...

    def resolve(self, who: HfPrincipal | None, repo: HfRepo, revision: str) -> HfVersion:
        """``main`` (newest un-yanked), an exact version name, or a 40-hex commit id."""

    def list_versions(self, who: HfPrincipal | None, repo: HfRepo) -> list[HfVersion]:
        """Every version, newest first (yanked ones included and flagged)."""

    def search(
        self,
        who: HfPrincipal | None,
        *,
        text: str | None,
        author: str | None,
        tags: list[str],
        limit: int,
    ) -> list[HfRepo]: ...

    def download_url(self, digest: str, filename: str) -> str | None:
        """A short-lived URL to fetch the blob straight from storage, or None to stream it here."""

    def open_blob(self, digest: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start..end`` inclusive of one stored blob, in chunks."""

    def create_repo(
        self, who: HfPrincipal, namespace: str, name: str, *, kind: str, private: bool
    ) -> HfRepo:
        """Raises ``Conflict`` if it exists, ``Forbidden`` without write rights on the namespace."""

    def check_write(self, who: HfPrincipal | None, repo: HfRepo) -> None:
        """Raises ``Unauthorized``/``Forbidden`` unless ``who`` may write to ``repo`` (before any side effect)."""

    def check_quota(self, repo: HfRepo, blobs: list[tuple[str, int]]) -> None:
        """Raises ``TooLarge`` when these (digest, size) blobs would take the namespace past its quota."""

    def put_blob(self, who: HfPrincipal, stream: BinaryIO) -> HfFile:
        """Store bytes (digest verified by the store); ``path`` of the answer is empty."""

    def publish(
        self, who: HfPrincipal, repo: HfRepo, version: str, files: list[HfFile], message: str
    ) -> HfVersion:
        """Commit a new immutable version (validation of safetensors/pickles included)."""

    def record_download(self, repo: HfRepo, version: HfVersion) -> None: ...

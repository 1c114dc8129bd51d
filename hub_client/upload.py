"""Push: hash the directory, ask the hub to publish the version, upload only the blobs it says it lacks
in resumable chunks (OCI-style sessions), then publish again in one atomic call.

Asking first means every refusal the hub can make from the manifest alone (the version exists with other
content, the name was deleted, rights, limits) comes before a single byte is uploaded, and the hub's
answer lists the missing blobs, so no per-blob ``HEAD`` is needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._http import HubHTTP
from .errors import Conflict, HubError, InvalidRequest, NotFound, TransportError
from .manifest import ManifestEntry, build_manifest, list_files
from .progress import byte_bar

DEFAULT_CHUNK = 16 * 1024 * 1024
_RETRIES = 5


@dataclass(frozen=True)
class PushResult:
    """What a push did: the version published and how many bytes actually travelled."""

    repo_id: str
    version: str
    commit: str
    created: bool  # False when the identical version already existed (idempotent re-push)
    uploaded_blobs: int
    uploaded_bytes: int
    skipped_blobs: int
    files: int


class Pusher:
    def __init__(self, http: HubHTTP, progress: bool | None, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.http = http
        self.progress = progress
        self.chunk_size = chunk_size

    def push(
        self,
        root: Path,
        namespace: str,
        name: str,
        version: str,
        *,
        kind: str,
        private: bool,
        message: str,
        extra: dict[str, Path] | None = None,
        make_private: bool = False,
    ) -> PushResult:
        """``extra``: files from elsewhere uploaded under the given paths (replacing the directory's own)."""
        self.check_visibility(namespace, name, private=private, make_private=make_private)
        private = private or make_private
        files = [(rel, path) for rel, path in list_files(root) if rel not in (extra or {})]
        files = sorted(files + list((extra or {}).items()))
        with byte_bar(sum(p.stat().st_size for _, p in files), "hash", self.progress) as bar:
            entries = build_manifest(root, bar, files)
        self.ensure_repo(namespace, name, kind=kind, private=private)
        unique = {e.digest: e for e in entries}
        manifest = {"version": version, "files": [e.as_json() for e in entries], "message": message}
        missing: list[ManifestEntry] = []
        try:
            response = self._publish(namespace, name, manifest)
        except InvalidRequest as exc:
            if exc.code != "missing_blobs":
                raise
            missing = self._missing(exc, unique)
            with byte_bar(sum(e.size for e in missing), f"push {namespace}/{name}@{version}", self.progress) as bar:
                sources = dict(files)
                for entry in missing:
                    self.upload_blob(sources[entry.path], entry, bar)
            response = self._publish(namespace, name, manifest)
        body = response.json()
        return PushResult(
            repo_id=f"{namespace}/{name}",
            version=body.get("version", version),
            commit=body.get("commit", ""),
            created=response.status_code == 201,
            uploaded_blobs=len(missing),
            uploaded_bytes=sum(e.size for e in missing),
            skipped_blobs=len(unique) - len(missing),
            files=len(entries),
        )

    def check_visibility(self, namespace: str, name: str, *, private: bool, make_private: bool) -> None:
        """``--private`` only creates a repo private: into an existing public repo it would publish
        publicly, so it is refused before any work; ``make_private`` switches the repo first."""
        if not (private or make_private):
            return
        try:
            repo = self.http.json("GET", f"/api/v1/repos/{namespace}/{name}")
        except NotFound:
            return
        if repo.get("private") is not False:
            return
        if make_private:
            self.http.request("PATCH", f"/api/v1/repos/{namespace}/{name}", json={"private": True}, retry=True)
            return
        raise InvalidRequest(
            f"{namespace}/{name} already exists and is public, so --private would publish this version publicly; "
            "nothing was uploaded. Use --make-private to make the repo private first, or drop --private"
        )

    def ensure_repo(self, namespace: str, name: str, *, kind: str, private: bool) -> None:
        try:
            self.http.request("GET", f"/api/v1/repos/{namespace}/{name}")
            return
        except NotFound:
            pass
        try:
            self.http.request(  # a retried create that already landed answers 409: handled below
                "POST",
                "/api/v1/repos",
                # "private" only when asked: otherwise the namespace's default (an org may be private by default)
                json={"namespace": namespace, "name": name, "kind": kind, **({"private": True} if private else {})},
                retry=True,
            )
        except Conflict:
            pass  # created concurrently by someone else: fine

    def _publish(self, namespace: str, name: str, manifest: dict[str, Any]) -> Any:
        """Publishing the same manifest again is a no-op: safe to retry."""
        return self.http.request("POST", f"/api/v1/repos/{namespace}/{name}/versions", json=manifest, retry=True)

    def _missing(self, refusal: HubError, unique: dict[str, ManifestEntry]) -> list[ManifestEntry]:
        """The blobs the hub's ``missing_blobs`` answer lists (asked one by one when it lists none of ours)."""
        body = getattr(refusal, "body", None)
        error = body.get("error") if isinstance(body, dict) else None
        listed = error.get("digests") if isinstance(error, dict) else None
        named = [unique[d] for d in dict.fromkeys(listed) if isinstance(d, str) and d in unique] if listed else []
        if named:
            return named
        return [e for d, e in unique.items() if not self._server_has(d)]

    def _server_has(self, digest: str) -> bool:
        response = self.http.request("HEAD", f"/api/v1/blobs/{digest}", ok=(404,))
        return response.status_code == 200

    def upload_blob(self, path: Path, entry: ManifestEntry, bar: Any) -> None:
        """Upload one file in chunks; on a dropped connection ask the server for its offset and go on."""
        upload_id = self.http.json("POST", "/api/v1/uploads", retry=True)["upload_id"]
        offset, failures = 0, 0
        with open(path, "rb") as fh:
            while True:
                try:
                    if offset >= entry.size:
                        if self._finish(upload_id, entry):
                            return
                        bar.update(-offset)
                        upload_id, offset = self.http.json("POST", "/api/v1/uploads", retry=True)["upload_id"], 0
                        continue
                    fh.seek(offset)
                    chunk = fh.read(self.chunk_size)
                    end = offset + len(chunk) - 1
                    response = self.http.request(
                        "PATCH",
                        f"/api/v1/uploads/{upload_id}",
                        content=chunk,
                        headers={
                            "Content-Range": f"bytes {offset}-{end}/*",
                            "Content-Type": "application/octet-stream",
                        },
                        ok=(416,),
                        retry=False,  # a lost answer is resolved by asking the offset, not by resending
                    )
                    if response.status_code == 416:
                        new = _offset_from_416(response)
                    else:
                        new = int(response.json().get("offset", end + 1))
                    bar.update(new - offset)
                    offset, failures = new, 0
                except TransportError:
                    failures += 1
                    if failures >= _RETRIES:
                        raise
                    time.sleep(min(0.2 * 2 ** (failures - 1), 3.0))
                    resumed = self._resume_offset(upload_id)
                    if resumed is None and self._server_has(entry.digest):
                        bar.update(entry.size - offset)
                        return  # the finish landed, only its answer was lost
                    if resumed is None:  # the session is gone (e.g. server cleaned it up): start over
                        upload_id = self.http.json("POST", "/api/v1/uploads", retry=True)["upload_id"]
                        resumed = 0
                    bar.update(resumed - offset)
                    offset = resumed

    def _finish(self, upload_id: str, entry: ManifestEntry) -> bool:
        """Finish the session; False when it is gone without a blob (start over). A retried finish
        whose first attempt already landed finds the session gone and the blob stored: done."""
        try:
            self.http.request("PUT", f"/api/v1/uploads/{upload_id}", params={"digest": entry.digest})
            return True
        except NotFound:
            return self._server_has(entry.digest)

    def _resume_offset(self, upload_id: str) -> int | None:
        try:
            return int(self.http.json("GET", f"/api/v1/uploads/{upload_id}")["offset"])
        except NotFound:
            return None
        except TransportError:
            return self._resume_offset_later(upload_id)

    def _resume_offset_later(self, upload_id: str) -> int | None:
        for delay in (0.5, 1.0, 2.0, 4.0):
            time.sleep(delay)
            try:
                return int(self.http.json("GET", f"/api/v1/uploads/{upload_id}")["offset"])
            except NotFound:
                return None
            except TransportError:
                continue
        raise TransportError(f"lost the connection to {self.http.endpoint} and could not resume the upload")


def _offset_from_416(response: Any) -> int:
    header = response.headers.get("Upload-Offset")
    if header is not None:
        return int(header)
    try:
        body = response.json()
        err = body.get("error", {})
        return int(err.get("offset", body.get("offset")))
    except (ValueError, TypeError, AttributeError):
        raise HubError(f"upload refused with 416 and no resume offset: {response.text[:200]}") from None

"""Pull: resolve a reference, fetch only the blobs the cache lacks, verify every byte, build the
snapshot. A version already complete in the cache costs one resolve call and no blob request.
Signed versions are checked before their blobs are fetched and again once the snapshot is built
(``pull_check``); a version that fails is never left in the snapshot folder.
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

from hub_rules import is_pickle, parse_content_range

from . import refs as refmod
from ._hashing_writer import HashingWriter
from ._http import HubHTTP
from .cache import LocalCache, copy_tree
from .errors import (
    BadServerAnswer,
    BadSignature,
    DigestMismatch,
    HubError,
    HubWarning,
    NotFound,
    OfflineMiss,
    TransportError,
)
from .not_found import explain_not_found
from .progress import byte_bar
from .pull_check import SignatureCheck, Verdict
from .trust import checked_detail

_RETRIES = 5


class Puller:
    def __init__(self, http: HubHTTP, cache: LocalCache, progress: bool | None) -> None:
        self.http = http
        self.cache = cache
        self.progress = progress
        self.last_verdict: Verdict | None = None

    def pull(
        self,
        namespace: str,
        name: str,
        ref: str | None,
        *,
        to: Path | None,
        offline: bool,
        require_signed: bool = False,
    ) -> Path:
        self.last_verdict = None
        self._check = SignatureCheck(self.http, require_signed)
        if offline:
            version, entry = self._resolve_offline(namespace, name, ref)
            snapshot = self.cache.snapshot_dir(namespace, name, version)
            if not self.cache.snapshot_complete(namespace, name, version, entry["files"]):
                raise OfflineMiss(f"{namespace}/{name}@{version} is incomplete in the cache; pull it once online")
            if require_signed and not entry.get("signature"):
                raise BadSignature(f"{namespace}/{name}@{version} is not signed; refusing it (signatures are required)")
            self.last_verdict = self._check.offline(namespace, name, version, entry, snapshot)
        else:
            try:
                detail = self.http.json(
                    "GET", f"/api/v1/repos/{namespace}/{name}/resolve", params={"ref": ref or "main"}
                )
            except TransportError as exc:
                return self._fallback_to_cache(namespace, name, ref, to, exc, require_signed)
            except NotFound as exc:
                raise explain_not_found(self.http, namespace, name, ref, exc) from None
            detail = checked_detail(detail, f"{namespace}/{name}" + (f"@{ref}" if ref else ""), ref)
            version, entry = detail["version"], detail
            snapshot = self._materialise(namespace, name, detail)
        if entry.get("yanked"):
            reason = entry.get("yank_reason") or "no reason given"
            warnings.warn(f"{namespace}/{name}@{version} is yanked: {reason}", HubWarning, stacklevel=3)
        if to is not None:
            return copy_tree(snapshot, Path(to))
        return snapshot

    def _fallback_to_cache(
        self, namespace: str, name: str, ref: str | None, to: Path | None, exc: Exception, require_signed: bool
    ) -> Path:
        """Hub unreachable: an exact version or commit already cached is still served (immutable)."""
        if not ref or ref == "main" or refmod.is_range(ref):
            raise exc
        try:
            path = self.pull(namespace, name, ref, to=to, offline=True, require_signed=require_signed)
        except OfflineMiss:
            raise exc from None
        warnings.warn(f"hub unreachable, using the cached {namespace}/{name}@{ref}", HubWarning, stacklevel=3)
        return path

    # --- offline -----------------------------------------------------------------------------
    def _resolve_offline(self, namespace: str, name: str, ref: str | None) -> tuple[str, dict[str, Any]]:
        known = self.cache.read_refs(namespace, name)["versions"]
        label = f"{namespace}/{name}" + (f"@{ref}" if ref else "")
        version = None
        if ref and refmod.is_commit(ref):
            version = next((v for v, e in known.items() if e.get("commit") == ref), None)
        elif ref and ref != "main" and not refmod.is_range(ref):
            version = ref if ref in known else None
        else:
            yanked = {v for v, e in known.items() if e.get("yanked")}
            version = refmod.pick(list(known), ref, skip=yanked)
        if version is None:
            raise OfflineMiss(f"{label} is not in the local cache ({self.cache.root}); pull it once online")
        return version, known[version]

    # --- online ------------------------------------------------------------------------------
    def _materialise(self, namespace: str, name: str, detail: dict[str, Any]) -> Path:
        version, files = detail["version"], detail["files"]
        known = self.cache.read_refs(namespace, name)["versions"].get(version)
        verdict = self._check.before_download(
            namespace, name, detail, lambda f: self._signature_bytes(namespace, name, f)
        )
        if (
            known
            and known.get("commit") == detail.get("commit")
            and self.cache.snapshot_complete(namespace, name, version, files)
        ):
            self._check.after_snapshot(self.cache.snapshot_dir(namespace, name, version), verdict)
            self.last_verdict = verdict
            if bool(known.get("yanked")) != bool(detail.get("yanked")) or known.get("signature") != detail.get(
                "signature"
            ):
                self.cache.record_version(namespace, name, detail)
            return self.cache.snapshot_dir(namespace, name, version)
        missing: dict[str, int] = {}
        for f in files:
            if not self.cache.has_blob(f["digest"], f["size"]):
                missing[f["digest"]] = f["size"]
        paths = {f["digest"]: f["path"] for f in files}
        bar = byte_bar(sum(missing.values()), f"pull {namespace}/{name}@{version}", self.progress)
        try:
            for digest, size in missing.items():
                self._fetch_blob(namespace, name, digest, size, bar, paths[digest])
        finally:
            bar.close()
        snapshot = self.cache.build_snapshot(namespace, name, version, files)
        try:
            self._check.after_snapshot(snapshot, verdict)
        except BadSignature:
            shutil.rmtree(snapshot, ignore_errors=True)
            raise
        self.cache.record_version(namespace, name, detail)
        self.last_verdict = verdict
        self._report_pull(namespace, name, version)
        return snapshot

    def _report_pull(self, namespace: str, name: str, version: str) -> None:
        """Tell the hub one real pull happened (a cached re-pull never reaches this); best effort."""
        try:
            self.http.request("POST", f"/api/v1/repos/{namespace}/{name}/versions/{version}/pulls")
        except HubError:
            pass

    def _signature_bytes(self, namespace: str, name: str, entry: dict[str, Any]) -> bytes:
        """``model.sig`` from the blob cache, fetched first when missing (it is small)."""
        if not self.cache.has_blob(entry["digest"], entry["size"]):
            with byte_bar(entry["size"], "signature", False) as bar:
                self._fetch_blob(namespace, name, entry["digest"], entry["size"], bar, entry["path"])
        return self.cache.blob_path(entry["digest"]).read_bytes()

    def _fetch_blob(self, namespace: str, name: str, digest: str, size: int, bar: Any, path: str = "") -> None:
        """Stream one blob into a temp file, hashing as it arrives; resume with Range if the connection drops."""
        url = f"/api/v1/repos/{namespace}/{name}/blobs/{digest}"
        fd, tmp = self.cache.temp_file()
        try:
            try:
                writer = HashingWriter(fd)
                try:
                    for attempt in range(_RETRIES):
                        try:
                            self._stream_into(url, writer, bar, size)
                            break
                        except TransportError:
                            if attempt == _RETRIES - 1:
                                raise
                            time.sleep(min(0.2 * 2**attempt, 3.0))
                finally:
                    actual = writer.finish()
            finally:
                os.close(fd)
            if actual != digest or writer.written != size:
                raise DigestMismatch(
                    f"{path or digest}: downloaded bytes do not match {digest} "
                    f"(got {actual}, {writer.written} bytes); refusing it"
                )
            _refuse_pickle(path or digest, tmp, size)
            self.cache.adopt_blob(tmp, digest)
        finally:
            if tmp.exists():
                tmp.unlink()

    def _stream_into(self, url: str, writer: HashingWriter, bar: Any, size: int) -> None:
        """One GET, ranged when resuming; a server that ignores the range resends bytes we skip.
        Reads stop at ``size`` bytes: one byte more is refused, a longer answer is never read on."""
        received = writer.written
        headers = {"Range": f"bytes={received}-"} if received else {}
        with self.http.bulk_get(url, headers) as response:
            skip = received if received and response.status_code != 206 else 0
            if received and response.status_code == 206:
                span = parse_content_range(response.headers.get("content-range"))
                if span is None or span[0] != received:
                    raise BadServerAnswer(
                        f"{url}: resumed download answered Content-Range "
                        f"{response.headers.get('content-range')!r}, not bytes {received}-"
                    )
            while True:
                buf = writer.buffer()
                try:
                    wanted = skip or (size - writer.written) or 1  # at the declared size: probe for one more
                    n = response.readinto(memoryview(buf)[: min(wanted, len(buf))])
                except BaseException:
                    writer.give_back(buf)
                    raise
                if not n or skip:  # the answer's end, or resent bytes we already hold
                    writer.give_back(buf)
                    if not n:
                        return
                    skip -= n
                    continue
                if writer.written + n > size:
                    writer.give_back(buf)
                    raise BadServerAnswer(f"{url}: the hub sent more than the {size} bytes its manifest declares")
                writer.commit(buf, 0, n)
                bar.update(n)


def _refuse_pickle(label: str, file: Path, size: int) -> None:
    """A downloaded blob that is a pickle never reaches the cache, whatever its name (the hub's own
    content rule, ``hub_rules.is_pickle``; a hub that let one through is not trusted with it)."""
    with open(file, "rb") as fh:

        def read(offset: int, length: int) -> bytes:
            fh.seek(offset)
            return fh.read(length)

        if is_pickle(read, size):
            raise BadServerAnswer(f"refused {label}: its bytes are a pickle; pickle formats are never loaded")

"""The git-LFS batch API of the HF view (basic transfer), so ``huggingface_hub`` sends large files
outside the NDJSON commit: preupload answers ``"lfs"`` above ``hf_lfs_threshold_bytes``, the client
asks ``{repo}.git/info/lfs/objects/batch`` what to do with each object, PUTs the bytes to the href
it gets, calls verify, then commits an ``lfsFile`` line naming the sha256.

An upload href is a native upload session (``services.uploads``): its unguessable id is the
capability (the basic PUT carries no token), the bytes land in the same blob store, hashed and
checked against the oid, charged to the same quotas, and the blob is recorded as the caller's, so
the commit's ``publish`` accepts it exactly like a ``hub push`` blob. With storage redirects on
(``HUB_STORAGE_REDIRECT``) and a backend that presigns uploads (S3), the href is a presigned PUT
of the session's one part, and verify hashes and records it. An object the caller already holds
gets no actions (git-LFS's "already uploaded")."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ..db.models import UploadSession, User
from ..errors import Invalid, MissingBlobs, NotFound, TooManyRequests
from ..limits.quotas import check_namespace_quota
from . import uploads
from .auth import Principal
from .blobs import known_digests
from .context import Hub
from .ndjson_commit import UNKNOWN_SIZE

_OID = re.compile(r"[0-9a-f]{64}")
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
MAX_OBJECTS = 1000  # per batch request (huggingface_hub sends at most 256)
HREF_SECONDS = 3600
DIRECT_PART = "lfs"  # the one part of a session whose bytes were PUT straight into storage


def _objects(body: dict[str, Any]) -> list[tuple[str, int]]:
    if body.get("operation") != "upload":
        raise Invalid("only the 'upload' operation of the LFS batch API is served here")
    raw = body.get("objects")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_OBJECTS:
        raise Invalid(f"'objects' must be a list of 1 to {MAX_OBJECTS} {{oid, size}} objects")
    if body.get("hash_algo", "sha256") != "sha256":
        raise Invalid("only sha256 object ids are supported")
    objects = []
    for item in raw:
        oid, size = (item.get("oid"), item.get("size")) if isinstance(item, dict) else (None, None)
        if not isinstance(oid, str) or not _OID.fullmatch(oid):
            raise Invalid("each object needs an 'oid' of 64 lowercase hex characters (sha256)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Invalid(f"object {oid}: 'size' must be a non-negative integer")
        objects.append((oid, size))
    return objects


def batch(hub: Hub, who: Principal, namespace: str, body: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The batch answer: per object nothing (already held), an error, or upload + verify actions."""
    if "basic" not in (body.get("transfers") or ["basic"]):
        raise Invalid("only the 'basic' LFS transfer is served here")
    objects = _objects(body)
    with hub.db.read() as s:
        held = known_digests(s, who, (f"sha256:{oid}" for oid, _ in objects))
        new = [(f"sha256:{oid}", size) for oid, size in objects if f"sha256:{oid}" not in held]
        check_namespace_quota(s, namespace, hub.settings, new)
    _check_sessions(
        hub,
        who,
        sum(1 for oid, size in objects if held.get(f"sha256:{oid}") != size and size <= hub.settings.max_file_bytes),
    )
    answers, multipart = [], False
    for oid, size in objects:
        answer: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
        if held.get(f"sha256:{oid}") == size:
            answers.append(answer)
        elif size > hub.settings.max_file_bytes:
            answers.append(
                {
                    **answer,
                    "error": {
                        "code": 422,
                        "message": (f"{size} bytes exceed the limit of {hub.settings.max_file_bytes} per file"),
                    },
                }
            )
        elif size > hub.settings.hf_lfs_multipart_bytes and "multipart" in (body.get("transfers") or []):
            answers.append({**answer, "actions": _multipart(hub, who, oid, size, base_url)})
            multipart = True
        else:
            upload_id = uploads.start(hub, who)["upload_id"]
            direct = (
                hub.store.upload_part_url(upload_id, DIRECT_PART, HREF_SECONDS)
                if hub.settings.storage_redirect
                else None
            )  # with storage redirects on, the bytes go straight to storage (presigned PUT)
            answer["actions"] = {
                "upload": {"href": direct or f"{base_url}/lfs/uploads/{upload_id}/{oid}", "expires_in": HREF_SECONDS},
                "verify": {"href": f"{base_url}/api/lfs/verify" + (f"?upload={upload_id}" if direct else "")},
            }
            answers.append(answer)
    return {"transfer": "multipart" if multipart else "basic", "objects": answers, "hash_algo": "sha256"}


def part_name(number: int) -> str:
    return f"lfs-{number:05d}"


def _multipart(hub: Hub, who: Principal, oid: str, size: int, base_url: str) -> dict[str, Any]:
    """HF's multipart answer: ``chunk_size`` and one PUT URL per part (``00001``...) in the upload
    header, the href is the completion call. Parts go to the hub's upload session, or, with storage
    redirects on and a presigning backend, straight into storage as the session's parts."""
    chunk = max(1, hub.settings.hf_lfs_chunk_bytes)
    upload_id = uploads.start(hub, who)["upload_id"]
    header: dict[str, str] = {"chunk_size": str(chunk)}
    direct = hub.settings.storage_redirect
    for number in range(1, -(-size // chunk) + 1):
        url = hub.store.upload_part_url(upload_id, part_name(number), HREF_SECONDS) if direct else None
        direct = url is not None
        header[f"{number:05d}"] = url or f"{base_url}/lfs/uploads/{upload_id}/parts/{number}"
    return {
        "upload": {"href": f"{base_url}/lfs/uploads/{upload_id}/{oid}", "header": header, "expires_in": HREF_SECONDS},
        "verify": {"href": f"{base_url}/api/lfs/verify"},
    }


def part_start(hub: Hub, number: int) -> int:
    """Where part ``number`` (from 1) of a multipart upload begins in the object."""
    if number < 1 or number > 100_000:
        raise Invalid(f"part number {number} is outside 1 to 100000")
    return (number - 1) * max(1, hub.settings.hf_lfs_chunk_bytes)


def complete(hub: Hub, who: Principal, upload_id: str, oid: str, body: dict[str, Any]) -> None:
    """The completion call of a multipart upload: the parts, in order, are hashed and checked
    against ``oid`` and the blob recorded as the uploader's (as a basic PUT's bytes are)."""
    if not _OID.fullmatch(oid) or body.get("oid") != oid:
        raise Invalid("the completion body's 'oid' must be the sha256 of the upload href")
    parts = body.get("parts")
    numbers = [p.get("partNumber") if isinstance(p, dict) else None for p in parts] if isinstance(parts, list) else []
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise Invalid("'parts' must list every part as {partNumber, etag}, numbered from 1 in order")
    if uploads.has_parts(hub, who, upload_id):  # sent through the hub: the session holds them
        uploads.finish_stored(hub, who, upload_id, f"sha256:{oid}")
    else:  # PUT straight into storage under their part names
        uploads.finish_direct(hub, who, upload_id, [part_name(n) for n in numbers], f"sha256:{oid}")


def _check_sessions(hub: Hub, who: Principal, needed: int) -> None:
    """One upload session per object to send, all or none: a batch never leaves a few open and fails."""
    already, most = uploads.open_sessions(hub, who.name), hub.settings.max_open_uploads
    if needed and already + needed > most:
        raise TooManyRequests(
            f"{needed} files to upload need as many upload sessions; {already} are open and "
            f"the limit is {most} (HUB_MAX_OPEN_UPLOADS): upload fewer large files per commit",
            retry_after=60,
        )


def uploader(hub: Hub, upload_id: str) -> Principal:
    """Who opened the upload session behind an LFS href (the session id is the credential); the
    owner must still be an enabled account."""
    session = user = None
    if _UPLOAD_ID.fullmatch(upload_id):
        with hub.db.read() as s:
            session = s.get(UploadSession, upload_id)
            user = session and s.scalar(select(User).where(User.name == session.user_name))
    if session is None or user is None or user.disabled_at is not None:
        raise NotFound(f"upload {upload_id[:64]} not found")
    return Principal(user_id=user.id, name=user.name, orgs=(), scope="write")


def verify(hub: Hub, who: Principal, body: dict[str, Any], upload_id: str | None = None) -> None:
    """The verify step: the caller holds a blob with this oid and size. After a presigned PUT
    (``upload_id``) this is where the bytes are hashed, checked against the oid and recorded."""
    oid, size = _objects({"operation": "upload", "objects": [body]})[0]
    if upload_id is not None:
        uploads.finish_direct(hub, who, upload_id, [DIRECT_PART], f"sha256:{oid}")
    with hub.db.read() as s:
        held = known_digests(s, who, [f"sha256:{oid}"])
    if held.get(f"sha256:{oid}") != size:
        raise NotFound(f"object {oid} of {size} bytes was not uploaded")


def held_files(hub: Hub, who: Principal, lfs: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """The ``lfsFile`` lines of a commit as ``path -> (size, digest)``, each naming a blob ``who``
    may use (uploaded by them or in a version they can read) with that size; a copied LFS file
    (no size in its line, ``UNKNOWN_SIZE``) takes the blob's. Refused with one line otherwise."""
    if not lfs:
        return {}
    with hub.db.read() as s:
        known = known_digests(s, who, [digest for _, digest in lfs.values()])
    missing = sorted({digest for _, digest in lfs.values() if digest not in known})
    if missing:  # publish's own answer for blobs it lacks
        raise MissingBlobs(f"upload these blobs first: {', '.join(missing)}", digests=missing)
    out = {}
    for path, (size, digest) in lfs.items():
        held = known[digest]
        if size not in (UNKNOWN_SIZE, held):
            raise Invalid(f"{path}: the LFS object {digest} has {held} bytes, not {size}")
        out[path] = (held, digest)
    return out

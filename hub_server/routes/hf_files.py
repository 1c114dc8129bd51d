"""``HEAD|GET /{ns}/{name}/resolve/{revision}/{path}``: file downloads the HF way.

With storage redirects on, both HEAD and GET answer 302 to a presigned storage URL (as the
HF CDN does) and the 302 carries X-Repo-Commit, X-Linked-Etag and X-Linked-Size.

``hf_hub_download`` first sends HEAD and needs X-Repo-Commit (the version's commit id),
an ETag (we use the file's sha256, so the HF cache deduplicates like ours) and the size;
then GET, possibly with a Range to resume. Compression is never applied: the library
checks the byte count against the size it was told.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from hub_rules import RangeNotSatisfiable, parse_range

from ..services.hf_backend import EntryNotFound, HfBackendError, HfFile, HfRepo, HfVersion
from .hf_common import Backend, Caller, error_response

router = APIRouter(tags=["huggingface"])

_COUNTED_FILES = ("adapter_config.json", "config.json")


def content_disposition(path: str) -> str:
    """``inline`` with an ASCII ``filename`` and the exact UTF-8 name as ``filename*`` (RFC 6266 /
    RFC 5987), so any file name fits a Latin-1 header line."""
    name = path.rsplit("/", 1)[-1]
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in name)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _file_headers(repo: HfRepo, version: HfVersion, f: HfFile) -> dict[str, str]:
    return {
        "X-Repo-Commit": version.commit,
        "ETag": f'"{f.sha256}"',
        "X-Linked-Etag": f'"{f.sha256}"',
        "X-Linked-Size": str(f.size),
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(f.path),
        "Cache-Control": "private, max-age=0" if repo.private else "public, max-age=0",
    }


@router.api_route("/{namespace}/{name}/resolve/{revision}/{path:path}", methods=["GET", "HEAD"])
def resolve_file(
    namespace: str, name: str, revision: str, path: str, request: Request, backend: Backend, caller: Caller
) -> Response:
    version: HfVersion | None = None
    if revision == "refs" and path.count("/") >= 2:  # an encoded refs/heads/main arrives decoded
        _, revision, path = path.split("/", 2)
    try:
        repo = backend.get_repo(caller, namespace, name)
        version = backend.resolve(caller, repo, revision)
        match = next((f for f in version.files if f.path == path), None)
        if match is None:
            raise EntryNotFound(f"{path} does not exist in {repo.id}@{version.version}")
    except HfBackendError as error:
        extra = {"X-Repo-Commit": version.commit} if version is not None else None
        return error_response(error, extra)

    headers = _file_headers(repo, version, match)
    if match.size > 0 and (url := backend.download_url(match.digest, path.rsplit("/", 1)[-1])):
        # like the HF CDN: the first answer carries the metadata, storage serves bytes and ranges
        if request.method == "GET" and path in _COUNTED_FILES and not request.headers.get("range"):
            backend.record_download(repo, version)
        headers.update({"Location": url, "Cache-Control": "no-store", "Content-Length": "0"})
        return Response(status_code=302, headers=headers)
    try:
        wanted = parse_range(request.headers.get("range"), match.size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{match.size}"
        return Response(status_code=416, headers=headers)
    start, end = (wanted.start, wanted.end) if wanted else (0, match.size - 1)
    status = 206 if wanted else 200
    if wanted:
        headers["Content-Range"] = wanted.content_range(match.size)
    headers["Content-Length"] = str(max(0, end - start + 1))
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    if start == 0 and path in _COUNTED_FILES:
        backend.record_download(repo, version)
    if match.size == 0:
        return Response(status_code=200, headers=headers)
    return StreamingResponse(backend.open_blob(match.digest, start, end), status_code=status, headers=headers)

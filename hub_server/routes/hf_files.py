"""``HEAD|GET [/datasets]/{ns}/{name}/resolve/{revision}/{path}``: file downloads the HF way.

``hf_hub_download`` first sends HEAD and needs X-Repo-Commit (the version's commit id), an
ETag (git blob sha1 of a plain file, sha256 of an LFS one, as on the HF Hub) and the size (``hf_views.file_headers``); then GET, possibly with a Range to resume. The
bytes come through the native ``blob_response`` (Range, no compression: the library checks the
byte count). With storage redirects on, HEAD and GET both answer 302 to a presigned storage URL
(as the HF CDN does), the 302 carrying the same metadata headers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..db.models import Version  # a ref commit (branch, PR) is no release: its downloads are not counted
from ..errors import ServiceError
from ..services import gates, hf_gitattributes, hf_oids, hf_views, refs, versions
from ..services.downloads import storage_redirect_url
from .deps import Caller, HubDep
from .hf_common import HfRoute, TypedRepo, hf_error
from .hf_revisions import revision_and_path
from .streaming import BYTES_RESPONSES, blob_response, parse_range

router = APIRouter(tags=["huggingface"], route_class=HfRoute)

_COUNTED_FILES = ("adapter_config.json", "config.json")


@router.api_route(
    "/datasets/{namespace}/{name}/resolve/{revision}/{path:path}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=BYTES_RESPONSES,
)
@router.api_route(
    "/{namespace}/{name}/resolve/{revision}/{path:path}",
    methods=["GET", "HEAD"],
    response_class=Response,
    responses=BYTES_RESPONSES,
)
def resolve_file(
    namespace: str, name: str, revision: str, path: str, request: Request, hub: HubDep, caller: Caller, typed: TypedRepo
) -> Response:
    at = 5 if typed.kind == "dataset" else 4  # the revision's segment: /datasets/ns/name/resolve/REV is one deeper
    revision, path = revision_and_path(request, revision, path, at)  # refs/pr/1 and branches with '/'
    repo, version = refs.resolve(hub, caller, namespace, name, revision)
    gates.require_access(hub, caller, repo)  # a gated repo's files: owners and accepted requests only
    try:
        match = versions.file_of(version, path)
    except ServiceError as exc:  # the commit tells huggingface_hub the revision exists
        return hf_error(exc, {"X-Repo-Commit": version.commit})
    lfs = hf_gitattributes.is_lfs(hub, version)(match.path, match.size)
    git_oid = None if lfs else hf_oids.file_ids(hub, match, False)["oid"]  # HF's ETag of a plain git file
    headers = hf_views.file_headers(repo, version, match, git_oid)
    get, range_header = request.method == "GET", request.headers.get("range")
    if match.size > 0 and (url := storage_redirect_url(hub, match.digest, path.rsplit("/", 1)[-1])):
        # like the HF CDN: the first answer carries the metadata, storage serves bytes and ranges
        if get and path in _COUNTED_FILES and not range_header and isinstance(version, Version):
            hub.downloads.add(repo.id, version.id)
        return Response(
            status_code=302, headers={**headers, "Location": url, "Cache-Control": "no-store", "Content-Length": "0"}
        )
    wanted = parse_range(range_header, match.size)
    if get and path in _COUNTED_FILES and (wanted is None or wanted.start == 0) and isinstance(version, Version):
        hub.downloads.add(repo.id, version.id)
    return blob_response(hub, match.digest, match.size, range_header, method=request.method, headers=headers)

"""``POST /api/models/{ns}/{name}/paths-info/{revision}`` (``HfApi.get_paths_info``, used by
``hf_hub_download(local_dir=...)`` and ``HfFileSystem``): the entries of the named paths, with git
oids and, when ``expand`` is true, each file's and folder's ``lastCommit`` (``services.hf_paths``)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..errors import Invalid
from ..services import hf_gitattributes, hf_oids, hf_paths, refs
from ..services.hf_numbering import plain_revision
from .deps import Caller, HubDep
from .hf_common import HfRoute, TypedRepo

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)
MAX_PATHS = 10_000


async def _paths_and_expand(request: Request) -> tuple[list[str], bool]:
    """huggingface_hub posts a form (``paths=a&paths=b&expand=True``); JSON is accepted too."""
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise Invalid("the body is not valid JSON") from None
        paths, expand = (body.get("paths"), body.get("expand")) if isinstance(body, dict) else (None, None)
    else:
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        paths, expand = form.get("paths"), (form.get("expand") or ["false"])[-1]
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise Invalid("'paths' must be a list of file paths")
    if len(paths) > MAX_PATHS:
        raise Invalid(f"at most {MAX_PATHS} paths per request")
    return paths, str(expand).lower() in ("true", "1")


def expanded_entries(hub, caller, namespace: str, name: str, revision: str, expand: bool):
    """``(version, file_entry, last)``: a renderer of file entries with oids (and lastCommit if ``expand``),
    and the last commits (None unless ``expand``) for ``hf_paths.add_folder_commits``."""
    _, version = refs.resolve(hub, caller, namespace, name, revision)  # versions, branches, tags, refs/pr/N
    last = None
    if expand:
        _, history = refs.history(hub, caller, namespace, name, version.commit)
        last = hf_paths.last_commits(history)
    lfs = hf_gitattributes.is_lfs(hub, version)
    return (
        version,
        lambda f: hf_paths.file_entry(f, lambda g: hf_oids.file_ids(hub, g, lfs(g.path, g.size)), last),
        last,
    )


@router.post("/models/{namespace}/{name}/paths-info/{revision:path}")
@router.post("/datasets/{namespace}/{name}/paths-info/{revision:path}")
async def paths_info(
    namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Caller, _: TypedRepo
) -> list[dict]:
    paths, expand = await _paths_and_expand(request)

    def work() -> list[dict]:
        version, entry, last = expanded_entries(hub, caller, namespace, name, plain_revision(revision), expand)
        return hf_paths.add_folder_commits(hf_paths.paths_info(version.files, paths, entry), last)

    return await run_in_threadpool(work)

"""``/api/...`` routes of the HF Hub API: info, listings, refs, whoami, create, upload.

Uploads: preupload answers "regular" for every file, so ``huggingface_hub`` sends the
bytes inline in the NDJSON commit; the commit publishes a NEW immutable hub version
(named by ``hf_numbering``). Versions are the repo's tags, ``main`` its only branch.
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hub_rules import CardInvalid, load_yaml, split_card

from ..services import hf_views
from ..services.hf_backend import Conflict, EntryNotFound, HfBackendError, Invalid, RevisionNotFound
from ..services.hf_commit import apply_commit, check_path, parse_ndjson
from ..services.hf_numbering import choose_version, plain_revision, version_from_message
from ..limits import json_depth_exceeds
from .hf_common import Backend, Caller, WritableRepo, Writer, error_response, json_object, read_limited_body

router = APIRouter(prefix="/api", tags=["huggingface"])

# Each lost race means another commit won a number, so N racers need at most N attempts.
_NUMBERING_ATTEMPTS = 32
_MAX_LINE_DEPTH = 8  # {"key", "value": {...}}: an NDJSON commit line never needs more


def _guard(call):
    try:
        return call()
    except HfBackendError as error:
        return error_response(error)


@router.get("/whoami-v2")
def whoami(caller: Writer) -> dict:
    return {
        "type": "user",
        "name": caller.name,
        "fullname": caller.name,
        "orgs": [{"type": "org", "name": org} for org in caller.orgs],
        "auth": {"type": "access_token", "accessToken": {"displayName": "hub token", "role": caller.scope}},
    }


@router.get("/models")
def list_models(
    backend: Backend,
    caller: Caller,
    search: str | None = None,
    author: str | None = None,
    filter: Annotated[list[str] | None, Query()] = None,
    limit: int = 100,
) -> list[dict]:
    repos = backend.search(caller, text=search, author=author, tags=filter or [], limit=max(1, min(limit, 1000)))
    return [hf_views.model_summary(repo) for repo in repos]


@router.get("/models/{namespace}/{name}")
def model_info(namespace: str, name: str, backend: Backend, caller: Caller):
    return _model_info(namespace, name, "main", backend, caller, empty_ok=True)


@router.get("/models/{namespace}/{name}/revision/{revision:path}")
def model_info_at(namespace: str, name: str, revision: str, backend: Backend, caller: Caller):
    return _model_info(namespace, name, revision, backend, caller, empty_ok=False)


def _model_info(namespace, name, revision, backend, caller, *, empty_ok):
    def run():
        repo = backend.get_repo(caller, namespace, name)
        try:
            version = backend.resolve(caller, repo, plain_revision(revision))
        except RevisionNotFound:
            if not empty_ok:
                raise
            version = None
        return hf_views.model_info(repo, version)

    return _guard(run)


@router.get("/models/{namespace}/{name}/tree/{revision}")
@router.get("/models/{namespace}/{name}/tree/{revision}/{path:path}")
def list_tree(
    namespace: str, name: str, revision: str, backend: Backend, caller: Caller,
    path: str = "", recursive: bool = False,
):
    if revision == "refs" and path.count("/") >= 1:  # an encoded refs/heads/main arrives decoded
        _, revision, path = (path + "/").split("/", 2)

    def run():
        repo = backend.get_repo(caller, namespace, name)
        version = backend.resolve(caller, repo, revision)
        entries = hf_views.tree(version.files, path, recursive)
        if entries is None:
            raise EntryNotFound(f"{path} is not a folder of {repo.id}@{version.version}")
        return entries

    return _guard(run)


@router.get("/models/{namespace}/{name}/refs")
def list_refs(namespace: str, name: str, backend: Backend, caller: Caller):
    def run():
        repo = backend.get_repo(caller, namespace, name)
        versions = backend.list_versions(caller, repo)
        try:
            main = backend.resolve(caller, repo, "main")
        except RevisionNotFound:
            main = None
        return hf_views.refs(versions, main)

    return _guard(run)


@router.post("/repos/create")
async def create_repo(request: Request, backend: Backend, caller: Writer):
    body = await json_object(request)
    if body.get("type") not in (None, "model"):
        return error_response(Invalid("only model repos are hosted here (adapters and base models)"))
    name = str(body.get("name") or "")
    namespace = body.get("organization") or caller.name
    private = body.get("visibility") == "private" or bool(body.get("private"))

    url = f"{str(request.base_url).rstrip('/')}/{namespace}/{name}"
    try:
        await run_in_threadpool(backend.create_repo, caller, namespace, name, kind="adapter", private=private)
    except Conflict as error:
        # huggingface_hub reads the url even from the 409 answer (exist_ok=True).
        return error_response(error, extra_body={"url": url})
    except HfBackendError as error:
        return error_response(error)
    return {"url": url, "name": f"{namespace}/{name}", "id": f"{namespace}/{name}"}


@router.post("/models/{namespace}/{name}/preupload/{revision:path}")
async def preupload(namespace: str, name: str, revision: str, request: Request, repo: WritableRepo):
    body = await json_object(request)

    def run():
        files = body.get("files") or []
        if not isinstance(files, list) or not all(isinstance(item, dict) for item in files):
            raise Invalid("'files' must be a list of objects with a path")
        for item in files:
            check_path(str(item.get("path", "")))
        return {
            "files": [
                {"path": item["path"], "uploadMode": "regular", "shouldIgnore": False} for item in files
            ],
            "commitOid": None,
        }

    return await run_in_threadpool(_guard, run)


@router.post("/models/{namespace}/{name}/commit/{revision:path}")
async def commit(namespace: str, name: str, revision: str, request: Request, backend: Backend, caller: Writer,
                 repo: WritableRepo):
    # ``repo`` is resolved with the write check first: the body is read only for a caller who may write.
    body = await read_limited_body(request)
    limits = getattr(request.app.state, "limits", None)
    if limits is not None:
        await limits.charge_upload(caller.name, len(body))
    revision = plain_revision(revision)

    def run():
        if json_depth_exceeds(body, _MAX_LINE_DEPTH):
            raise Invalid(f"a commit line nests deeper than {_MAX_LINE_DEPTH} levels")
        parsed = parse_ndjson(body)
        backend.check_quota(repo, [("sha256:" + hashlib.sha256(data).hexdigest(), len(data))
                                   for data in parsed.added.values()])
        existing = backend.list_versions(caller, repo)
        names = [v.version for v in existing]
        parent_ref = revision if (revision == "main" or revision in names or len(revision) == 40) else "main"
        try:
            parent = backend.resolve(caller, repo, parent_ref)
        except RevisionNotFound:
            if parent_ref != "main":
                raise
            parent = None
        parent_files = list(parent.files) if parent else []
        files = apply_commit(backend, caller, parent_files, parsed)
        base = str(request.base_url).rstrip("/")
        if parent is not None and files == sorted(parent_files, key=lambda f: f.path):
            version = parent  # nothing changed: no empty version
        else:
            message = "\n\n".join(t for t in (parsed.summary, parsed.description) if t)
            version = _publish_numbered(backend, caller, repo, files, message, parsed, revision, names)
        return {
            "commitUrl": f"{base}/{repo.id}/commit/{version.commit}",
            "commitOid": version.commit,
            "pullRequestUrl": None,
            "version": version.version,
        }

    # Blob writes and the publish are blocking: keep them off the event loop.
    return await run_in_threadpool(_guard, run)


def _publish_numbered(backend, caller, repo, files, message, parsed, revision, names):
    """Publish under the chosen name; an automatic number lost to a concurrent commit is retried."""
    for attempt in range(_NUMBERING_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0.0, 0.02 * attempt))  # spread the racers out
        name = choose_version(
            summary=parsed.summary, description=parsed.description, url_revision=revision, existing=names
        )
        try:
            return backend.publish(caller, repo, name, files, message)
        except Conflict:
            automatic = name not in (revision, version_from_message(parsed.summary, parsed.description))
            if not automatic:
                raise
            names = [v.version for v in backend.list_versions(caller, repo)]
    raise Conflict("too many concurrent commits; try again")


@router.post("/validate-yaml")
async def validate_yaml(request: Request, caller: Writer):
    body = await json_object(request)
    content = str(body.get("content") or "")
    errors: list[dict] = []
    warnings: list[dict] = []
    front = _front_matter(content, errors)
    if front is None and not errors:
        warnings.append({"message": "empty or missing yaml metadata in repo card"})
    elif front is not None and not isinstance(front, dict):
        errors.append({"message": "the metadata must be a YAML mapping"})
    elif front is not None:
        hub = front.get("adapter_hub")
        if hub is not None and not isinstance(hub, dict):
            errors.append({"message": '"adapter_hub" must be a mapping'})
        elif hub and hub.get("kind") not in (None, "adapter", "base"):
            errors.append({"message": '"adapter_hub.kind" must be "adapter" or "base"'})
        if "tags" in front and not isinstance(front["tags"], list):
            errors.append({"message": '"tags" must be a list'})
    status = 400 if errors else 200
    return JSONResponse({"errors": errors, "warnings": warnings}, status_code=status)


def _front_matter(content: str, errors: list[dict]):
    """The front matter through the one safe loader; its refusal becomes the error message."""
    try:
        block, _ = split_card(content)
        return (load_yaml(block) or None) if block is not None and block.strip() else None
    except CardInvalid as exc:
        errors.append({"message": str(exc)})
        return None

"""``/api/...`` routes of the HF Hub API: whoami, listings (Link-paginated), info, tree, refs,
commits, create, delete, settings (visibility), preupload, commit, validate-yaml.

Every route calls the native services (``repos``, ``versions``, ``search``, ``hf_commit`` over
``publish``) and renders through ``hf_views``; errors are the hub's own, answered the HF way by
``HfRoute``. Uploads: preupload answers "regular" up to ``hf_lfs_threshold_bytes``, so
``huggingface_hub`` sends those bytes inline in the NDJSON commit, and "lfs" above it (the git-LFS
batch API, ``hf_lfs``); each commit publishes a NEW immutable hub version. Models and datasets
share every view (``each_type``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from hub_rules import CardInvalid, load_yaml, split_card

from ..errors import Conflict, EntryNotFound, Invalid, RevisionNotFound
from ..public_url import public_base
from ..services import (
    accounts,
    dataset_files,
    gates,
    hf_card_check,
    hf_commit,
    hf_formatted,
    hf_gitattributes,
    hf_initial,
    hf_paths,
    hf_preupload,
    hf_views,
    likes,
    ndjson_commit,
    ref_commits,
    refs,
    repos,
    search,
    versions,
)
from ..services.auth import require_user, require_write
from ..services.hf_numbering import plain_revision
from . import hf_paths as hf_paths_routes
from . import hf_ref_views
from .bodies import HfDeleteRepo, HfMoveRepo, HfNewRepo, HfPreupload, HfSettings, HfValidateYaml, hf_body, hf_schema
from .deps import Caller, HubDep
from .hf_common import (
    HfRoute,
    RepoType,
    TypedRepo,
    WritableRepo,
    Writer,
    after_cursor,
    json_object,
    of_type,
    page_size,
    paged,
)
from .hf_revisions import revision_and_path

router = APIRouter(prefix="/api", tags=["huggingface"], route_class=HfRoute)

# HF list sorts → the hub's search sorts (descending, as the HF Hub sorts them)
_SORTS = {"downloads": "downloads", "likes": "likes", "lastModified": "updated", "last_modified": "updated"}
_PAGE, _TREE_PAGE = 100, 1000


@router.get("/users/{user}/likes")
def user_likes(user: str, hub: HubDep, caller: Caller) -> list[dict]:
    """``HfApi.list_liked_repos``: the repos ``user`` likes that the caller may see."""
    return [
        {
            "createdAt": hf_views.iso(at),
            "repo": {"name": f"{repo.namespace}/{repo.name}", "type": "dataset" if repo.kind == "dataset" else "model"},
        }
        for repo, at in likes.liked_by(hub, caller, user)
    ]


@router.get("/whoami-v2")
def whoami(caller: Writer, hub: HubDep) -> dict:
    with hub.db.read() as s:
        names = accounts.display_names(s, [caller.name, *caller.orgs])
    return hf_views.whoami(caller.name, caller.orgs, caller.scope, names)


def each_type(method: str, path: str, **kwargs):
    """Register one handler under ``/models{path}`` and ``/datasets{path}``: the two repo types
    share every view (``RepoType`` tells the handler which prefix matched)."""

    def register(endpoint):
        for prefix in ("/models", "/datasets"):
            router.api_route(prefix + path, methods=[method], **kwargs)(endpoint)
        return endpoint

    return register


@each_type("POST", "/{namespace}/{name}/like")
@each_type("DELETE", "/{namespace}/{name}/like")
def like(namespace: str, name: str, request: Request, hub: HubDep, caller: Writer, _: TypedRepo) -> dict:
    """``HfApi.unlike`` (DELETE) and its counterpart (POST, as the HF site sends it)."""
    likes.set_like(hub, caller, namespace, name, request.method == "POST")
    return {}


@each_type("GET", "")
def list_models(
    request: Request,
    hub: HubDep,
    caller: Caller,
    kind: RepoType,
    search_text: Annotated[str | None, Query(alias="search")] = None,
    author: str | None = None,
    filter: Annotated[list[str] | None, Query()] = None,
    sort: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> JSONResponse:
    if sort is not None and sort not in _SORTS:
        raise Invalid(f"invalid sort {sort!r}: use {', '.join(sorted(_SORTS))}")
    dataset = kind == "dataset"  # a dataset lists under /api/datasets only, a model never does
    rows, next_cursor = search.search_rows(
        hub,
        caller,
        q=search_text or None,
        namespace=author or None,
        tags=filter or [],
        kind="dataset" if dataset else None,
        not_kind=None if dataset else "dataset",
        sort=_SORTS.get(sort or "downloads", "downloads"),
        limit=page_size(limit, _PAGE, _PAGE),
        cursor=cursor,
    )
    cards = versions.latest_cards(hub, rows)
    return paged(request, [hf_views.model_summary(r, cards.get(r.id, {})) for r in rows], next_cursor)


@each_type("GET", "/{namespace}/{name}")
def model_info(namespace: str, name: str, request: Request, hub: HubDep, caller: Caller, _: TypedRepo) -> dict:
    repo, live = versions.list_versions(hub, caller, namespace, name)
    main = next((v for v in live if not v.yanked), None)  # an empty repo has no main yet
    lfs = hf_gitattributes.is_lfs(hub, main)
    return {
        **hf_views.model_info(repo, main, lfs),
        "gated": gates.gated(hub, repo),
        **_expanded(request, hub, caller, namespace, name, main),
    }


def _expanded(request: Request, hub, caller, namespace: str, name: str, version) -> dict:
    """``expand=evalResults``: verified results (``hf_evals``); other expansions are in the info already."""
    if "evalResults" not in request.query_params.getlist("expand"):
        return {}
    from .hf_evals import eval_results

    return {"evalResults": eval_results(request, hub, caller, namespace, name, getattr(version, "version", None))}


@each_type("GET", "/{namespace}/{name}/revision/{revision:path}")
def model_info_at(
    namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Caller, _: TypedRepo
) -> dict:
    repo, snapshot = refs.resolve(hub, caller, namespace, name, revision)
    lfs = hf_gitattributes.is_lfs(hub, snapshot)
    return {
        **hf_views.model_info(repo, snapshot, lfs),
        "gated": gates.gated(hub, repo),
        **_expanded(request, hub, caller, namespace, name, snapshot),
    }


@each_type("GET", "/{namespace}/{name}/tree/{revision}")
@each_type("GET", "/{namespace}/{name}/tree/{revision}/{path:path}")
def list_tree(
    namespace: str,
    name: str,
    revision: str,
    request: Request,
    hub: HubDep,
    caller: Caller,
    _: TypedRepo,
    path: str = "",
    recursive: bool = False,
    expand: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
) -> JSONResponse:
    revision, path = revision_and_path(request, revision, path, 6)  # refs/pr/1 and branches with '/'
    version, entry, last = hf_paths_routes.expanded_entries(hub, caller, namespace, name, revision, expand)
    entries = hf_views.tree(version.files, path, recursive, entry)  # git oids; lastCommit when expanded
    if entries is None:
        raise EntryNotFound(f"{path} is not a folder of {namespace}/{name}@{version.version}")
    hf_paths.add_folder_commits(entries, last)
    return paged(request, *after_cursor(entries, lambda e: e["path"], cursor, page_size(limit, _TREE_PAGE, _TREE_PAGE)))


@each_type("GET", "/{namespace}/{name}/refs")
def list_refs(namespace: str, name: str, hub: HubDep, caller: Caller, _: TypedRepo, include_prs: bool = False) -> dict:
    _, main, live, named = refs.list_refs(hub, caller, namespace, name)
    return hf_ref_views.refs(main, live, named, include_prs)


@each_type("GET", "/{namespace}/{name}/commits/{revision:path}")
def list_commits(
    namespace: str,
    name: str,
    revision: str,
    request: Request,
    hub: HubDep,
    caller: Caller,
    _: TypedRepo,
    limit: int | None = None,
    cursor: str | None = None,
) -> JSONResponse:
    """The versions up to ``revision``, newest first: each one is a commit."""
    _, history = refs.history(hub, caller, namespace, name, revision)
    chunk, next_cursor = after_cursor(history, lambda v: v.version, cursor, page_size(limit, _PAGE, _PAGE))
    formatted = "formatted" in request.query_params.getlist("expand[]")  # list_repo_commits(formatted=True)
    return paged(
        request,
        [
            hf_formatted.with_formatted(hf_views.commit_entry(v)) if formatted else hf_views.commit_entry(v)
            for v in chunk
        ],
        next_cursor,
    )


def _repo_kind(repo_type: str | None) -> str:
    """The hub kind a repo of HF's ``type`` has: a model is an adapter until its card says base."""
    kind = {None: "adapter", "model": "adapter", "dataset": "dataset"}.get(repo_type, "")
    if not kind:
        raise Invalid("only model and dataset repos are hosted here")
    return kind


@router.post("/repos/create", openapi_extra=hf_schema(HfNewRepo))
async def create_repo(request: Request, hub: HubDep, caller: Writer) -> dict:
    raw = await json_object(request)
    body = hf_body(HfNewRepo, raw)
    kind = _repo_kind(body.type)
    name = body.name
    namespace = body.organization or caller.name
    # visibility wins, then private; neither: the namespace's default (an org may be private by default)
    private = {"private": True, "public": False}.get(body.visibility or "", body.private)
    url = f"{public_base(request)}/{'datasets/' if kind == 'dataset' else ''}{namespace}/{name}"
    try:
        repo = await run_in_threadpool(repos.create_repo, hub, caller, namespace, name, kind=kind, private=private)
    except Conflict as exc:
        exc.extra["url"] = url  # huggingface_hub reads the url even from the 409 answer (exist_ok=True)
        raise
    await run_in_threadpool(hf_initial.initial_commit, hub, caller, repo)  # main exists, as on the HF Hub
    return {"url": url, "name": f"{namespace}/{name}", "id": f"{namespace}/{name}"}


@router.delete("/repos/delete", openapi_extra=hf_schema(HfDeleteRepo))
async def delete_repo(request: Request, hub: HubDep, caller: Writer) -> dict:
    """``HfApi.delete_repo``: the native delete (its version names stay tombstoned)."""
    raw = await json_object(request)
    body = hf_body(HfDeleteRepo, raw)
    kind = _repo_kind(body.type)
    namespace = body.organization or caller.name
    of_type(await run_in_threadpool(repos.get_repo, hub, caller, namespace, body.name), kind)
    await run_in_threadpool(repos.delete_repo, hub, caller, namespace, body.name)
    return {}


@router.post("/repos/move", openapi_extra=hf_schema(HfMoveRepo))
async def move_repo(request: Request, hub: HubDep, caller: Writer) -> dict:
    """``HfApi.move_repo``: rename a repo (``services.repos.move_repo``: the old name redirects and
    its version names stay tombstoned)."""
    body = hf_body(HfMoveRepo, await json_object(request))
    kind = _repo_kind(body.type)
    ids = [body.fromRepo.split("/"), body.toRepo.split("/")]
    if any(len(parts) != 2 for parts in ids):
        raise Invalid("'fromRepo' and 'toRepo' must be namespace/name")
    (namespace, name), (to_namespace, to_name) = ids
    of_type(await run_in_threadpool(repos.get_repo, hub, caller, namespace, name), kind)
    word = "dataset" if kind == "dataset" else "model"
    await run_in_threadpool(repos.move_repo, hub, caller, namespace, name, to_namespace, to_name, word)
    return {}


@each_type("PUT", "/{namespace}/{name}/settings", openapi_extra=hf_schema(HfSettings))
async def update_settings(
    namespace: str, name: str, request: Request, hub: HubDep, caller: Writer, repo: WritableRepo
) -> dict:
    """``HfApi.update_repo_settings``: visibility (``private``) through the native service, owners
    only (checked before the body is read); and `gated` ("auto", "manual", false: ``services.gates``)."""
    raw = await json_object(request)
    private = raw.get("private")  # older huggingface_hub sends {"private": true|false}
    if private is not None and not isinstance(private, bool):
        raise Invalid("'private' must be true or false")
    body = hf_body(HfSettings, raw)
    if body.gated is not None:  # "auto", "manual" or false (services.gates)
        await run_in_threadpool(gates.set_gate, hub, caller, namespace, name, body.gated)
    visibility = body.visibility
    if visibility not in ("private", "public", None):
        raise Invalid(f"invalid visibility {visibility[:40]!r}: use private or public")
    if visibility is not None and private is not None and (visibility == "private") != private:
        raise Invalid("'private' and 'visibility' disagree")
    if visibility is None and private is not None:
        visibility = "private" if private else "public"
    if visibility is not None:
        await run_in_threadpool(repos.set_private, hub, caller, namespace, name, visibility == "private")
    return {}


@each_type("POST", "/{namespace}/{name}/preupload/{revision:path}", openapi_extra=hf_schema(HfPreupload))
async def preupload(
    namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Writer, repo: WritableRepo
) -> dict:
    raw = await json_object(request)
    files = raw.get("files") or []
    if not isinstance(files, list) or not all(isinstance(item, dict) for item in files):
        raise Invalid("'files' must be a list of objects with a path")
    gitignore = raw.get("gitIgnore")
    if gitignore is not None and not isinstance(gitignore, str):
        raise Invalid("'gitIgnore' must be text")
    body = hf_body(HfPreupload, raw)
    for item in body.files:
        hf_commit.check_path(item.path)
        if dataset_files.is_dataset(repo.kind):
            dataset_files.check_path(item.path)  # code in a dataset is refused before any byte is sent
    create_pr = request.query_params.get("create_pr") in ("1", "true")
    if ref_commits.goes_to_ref(revision, create_pr):
        await run_in_threadpool(ref_commits.check_preupload, hub, caller, repo, revision, create_pr)

    def work() -> list[dict]:
        try:
            _, version = refs.resolve(hub, caller, namespace, name, plain_revision(revision))
        except RevisionNotFound:
            version = None  # a new version name, a new pull request, or an empty repo: nothing to compare with
        return hf_preupload.answer(
            hub,
            version,
            [item.path for item in body.files],
            gitignore,
            {item.path: item.size or 0 for item in body.files},
            hub.settings.hf_lfs_threshold_bytes,
        )

    return {"files": await run_in_threadpool(work), "commitOid": None}


@each_type("GET", "/{namespace}/{name}/auth-check")
@each_type("GET", "/{namespace}/{name}/auth-check/write")
def auth_check(namespace: str, name: str, request: Request, hub: HubDep, caller: Caller) -> dict:
    """``HfApi.auth_check``: 404 RepoNotFound when the caller cannot see the repo, GatedRepo when its
    files are gated to them; ``/write`` also needs write rights (403)."""
    gates.require_access(hub, caller, repos.get_repo(hub, caller, namespace, name))
    if request.url.path.endswith("/write"):
        require_write(require_user(caller), namespace)
    return {}


@each_type("POST", "/{namespace}/{name}/commit/{revision:path}")
async def commit(
    namespace: str, name: str, revision: str, request: Request, hub: HubDep, caller: Writer, repo: WritableRepo
) -> dict:
    # ``repo`` is resolved with the write check first: the body is read only for a caller who may write.
    # The body is spooled on the event loop (bounded memory, minimum rate) within the host's budget
    # of commit bytes in flight; blob writes and the publish are blocking: off the event loop.
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else hub.settings.hf_max_commit_bytes
    charge = (lambda n: hub.limits.charge_upload(caller.name, n)) if hub.limits is not None else None
    async with commit_budget(hub).hold(size):
        with await ndjson_commit.spool_commit(request.stream(), hub.settings, charge) as body:
            create_pr = request.query_params.get("create_pr") in ("1", "true")
            if ref_commits.goes_to_ref(revision, create_pr):  # a branch or pull request: never a release
                done = await run_in_threadpool(ref_commits.commit, hub, caller, repo, revision, body, create_pr)
                return hf_ref_views.ref_commit_answer(public_base(request), repo, done)
            version = await run_in_threadpool(hf_commit.commit, hub, caller, repo, plain_revision(revision), body)
    return hf_views.commit_answer(public_base(request), repo, version)


def commit_budget(hub) -> ndjson_commit.ByteBudget:
    if hub.commit_budget is None:
        hub.commit_budget = ndjson_commit.ByteBudget(hub.settings.hf_max_commit_bytes_in_flight)
    return hub.commit_budget


@router.post("/validate-yaml", openapi_extra=hf_schema(HfValidateYaml))
async def validate_yaml(request: Request) -> Response:
    """Open to anonymous callers, as on the HF Hub (``RepoCard.validate`` sends no token); the
    checks are ``hf_card_check``'s. ``Accept: text/plain`` gets the ``- Error: ...`` lines."""
    content = hf_body(HfValidateYaml, await json_object(request)).content
    errors: list[str] = []
    warnings: list[str] = []
    front = _front_matter(content, errors)
    if front is None and not errors:
        warnings.append("empty or missing yaml metadata in repo card")
    elif front is not None and not isinstance(front, dict):
        errors.append("the metadata must be a YAML mapping")
    elif front is not None:
        errors += hf_card_check.card_problems(front)
    status = 400 if errors else 200
    if "text/plain" in request.headers.get("accept", ""):
        return PlainTextResponse(hf_card_check.as_text(errors, warnings), status_code=status)
    return JSONResponse(
        {"errors": [{"message": e} for e in errors], "warnings": [{"message": w} for w in warnings]}, status_code=status
    )


def _front_matter(content: str, errors: list[str]):
    """The front matter through the one safe loader; its refusal becomes the error message."""
    try:
        block, _ = split_card(content)
        return (load_yaml(block) or None) if block is not None and block.strip() else None
    except CardInvalid as exc:
        errors.append(str(exc))
        return None

"""The repo page (``/NS/NAME`` and ``/NS/NAME/v/VERSION``): rendered card, metadata panel, base
pin, versions with commit ids, signatures and yanks, files with download links, lineage, how-to-use
snippets and likes; a base's page shows its own fingerprint and the adapters pinned to it.
File downloads here use the browser's session, so a private repo's files are 404 to others."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import APIRouter, Request

from hub_rules import is_version
from hub_rules.adapter_capabilities import Capabilities, capabilities

from ..errors import NotFound
from ..public_url import public_base
from ..routes.streaming import blob_response
from ..services import capabilities as capability_index
from ..services import evaluations, gates, leaderboard
from ..services import versions as version_service
from ..services.card import metadata_from_card
from ..services.context import Hub
from ..services.likes import likes_of, toggle_like
from ..services.publish import CARD_LIMIT
from ..services.repos import find_base, find_repo
from ..services.search import search
from ..services.signatures import signature_json
from ..services.versions import file_of, live_versions, pick
from ..services.views import repo_json
from ..storage.base import BlobNotFound
from . import dataset_preview
from .markdown import strip_front_matter
from .render import page
from .routing import FormDep, HubDep, PageRoute, VisitorDep, redirect
from .snippets import SnippetTarget, snippets

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _card_text(hub: Hub, version) -> str:
    entry = next((f for f in version.files if f.path == "README.md"), None)
    if entry is None or entry.size == 0 or entry.size > CARD_LIMIT:
        return ""
    raw = b"".join(hub.store.open(entry.digest, 0, entry.size - 1))
    return strip_front_matter(raw.decode("utf-8", errors="replace"))


PINNED_SHOWN = 20


def _capabilities(hub: Hub, kind: str, version, front: dict) -> Capabilities:
    """What the adapter can do, as indexed at publish; a version published before they were indexed has its
    ``adapter_config.json`` read instead (once per view, bounded)."""
    indexed = capability_index.from_index(version.capabilities_json)
    if indexed is not None:
        return indexed
    config = None
    if kind == "adapter":
        try:
            config = capability_index.read_adapter_config(
                version.files, lambda digest, size: b"".join(hub.store.open(digest, 0, size - 1))
            )
        except BlobNotFound:
            config = None
    return capabilities(front, config)


def _hosted_base(base_repo, metadata: dict) -> tuple[str, str] | None:
    """The base repo on this hub holding the pinned weights, and the version to name: what the pin finds."""
    fingerprint = metadata.get("base_fingerprint")
    if base_repo is None or not fingerprint or base_repo.fingerprint != fingerprint or not base_repo.latest_version:
        return None
    revision = metadata.get("base_revision")
    return f"{base_repo.namespace}/{base_repo.name}", revision if is_version(revision) else base_repo.latest_version


def _chosen(rows: list, ref: str | None):
    """The version asked for; by default the newest un-yanked one, else the newest of all."""
    if ref is not None:
        return pick(rows, ref)
    try:
        return pick(rows, "main")
    except NotFound:
        return rows[0] if rows else None


def _repo_page(request: Request, hub: Hub, visitor, namespace: str, name: str, ref: str | None):
    who = visitor.principal
    with hub.db.read() as s:  # one session: on a networked database every round trip counts
        repo = find_repo(s, who, namespace, name)
        rows = live_versions(s, repo)
        version = _chosen(rows, ref)
        front = json.loads(version.card_json or "{}") if version else {}
        metadata = metadata_from_card(front) if version else repo_json(repo)["metadata"]
        base_repo = find_base(s, who, metadata.get("base_fingerprint"), metadata.get("base_id"))
        liked = likes_of(s, who, repo.id)
        signatures = {v.version: signature_json(s, v, repo.namespace) for v in rows}
    preview, data_info = _dataset_view(hub, version) if repo.kind == "dataset" and version else (None, [])
    hub_fields = front.get("adapter_hub") if isinstance(front.get("adapter_hub"), dict) else {}
    options = hub_fields.get("method_options")
    repo_id = f"{repo.namespace}/{repo.name}"
    endpoint = public_base(request)
    target = version and SnippetTarget(
        endpoint=endpoint,
        repo_id=repo_id,
        version=version.version,
        kind=repo.kind,
        metadata=metadata,
        capabilities=_capabilities(hub, repo.kind, version, front),
        hosted_base=_hosted_base(base_repo, metadata),
    )
    own_fingerprint = metadata.get("fingerprint") if repo.kind == "base" else None
    pinned = (
        search(hub, who, kind="adapter", fingerprint=own_fingerprint, limit=PINNED_SHOWN) if own_fingerprint else None
    )
    verified = (
        evaluations.verified_beside_reported(hub, who, namespace, name, version.version)
        if version and repo.kind == "adapter"
        else []
    )
    ranking = leaderboard.board(hub, who, base=None, dataset=repo_id) if repo.kind == "dataset" else []
    return page(
        request,
        visitor,
        "repo.html",
        verified=verified,
        ranking=ranking,
        repo=repo_json(repo),
        versions=rows,
        version=version,
        metadata=metadata,
        card=_card_text(hub, version) if version else "",
        liked=liked,
        base_repo=base_repo,
        signatures=signatures,
        snippets=snippets(target) if target else [],
        snippet_endpoint=endpoint,
        own_fingerprint=own_fingerprint,
        pinned=pinned,
        options=options if isinstance(options, dict) else None,
        preview=preview,
        data_files=data_info,
    )


def _dataset_view(hub: Hub, version):
    """A dataset version's first rows (JSONL/CSV/TSV) and its data files with their types."""
    entry = dataset_preview.preview_file(version.files)
    preview = None
    if entry is not None:
        end = min(entry.size, dataset_preview.PREVIEW_BYTES)
        head = b"".join(hub.store.open(entry.digest, 0, end - 1))
        preview = dataset_preview.table(entry.path, head, truncated=end < entry.size)
    return preview, dataset_preview.data_files(version.files)


@router.get("/datasets/{namespace}/{name}")
def dataset_address(namespace: str, name: str):
    """The HF-style address of a dataset page (what ``create_repo`` answers) leads to the repo page."""
    return redirect(f"/{quote(namespace)}/{quote(name)}")


@router.get("/{namespace}/{name}")
def repo_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str):
    return _repo_page(request, hub, visitor, namespace, name, None)


@router.get("/{namespace}/{name}/v/{version}")
def version_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str, version: str):
    return _repo_page(request, hub, visitor, namespace, name, version)


@router.api_route("/{namespace}/{name}/v/{version}/files/{path:path}", methods=["GET", "HEAD"])
def file_download(
    request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str, version: str, path: str
):
    repo, row = version_service.resolve(hub, visitor.principal, namespace, name, version)
    gates.require_access(hub, visitor.principal, repo)
    entry = file_of(row, path)
    filename = quote(path.rsplit("/", 1)[-1])
    return blob_response(
        hub,
        entry.digest,
        entry.size,
        request.headers.get("range"),
        method=request.method,
        headers={
            "X-Hub-Version": row.version,
            "X-Hub-Commit": row.commit,
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}",
        },
    )


@router.post("/{namespace}/{name}/like")
def like(hub: HubDep, visitor: VisitorDep, form: FormDep, namespace: str, name: str):
    if visitor.principal is None:
        return redirect(f"/signin?next=/{namespace}/{name}")
    toggle_like(hub, visitor.principal, namespace, name)
    return redirect(f"/{namespace}/{name}")

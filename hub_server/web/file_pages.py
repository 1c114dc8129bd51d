"""The file viewer, shaped like Hugging Face's: ``/NS/NAME/tree/REV`` lists a version's files (sizes,
links) and ``/NS/NAME/blob/REV/PATH`` shows one, so a reader can check ``adapter_config.json`` before
pulling. REV is a version, ``main`` or a commit id.

Text is rendered escaped, with line numbers, up to ``TEXT_LIMIT`` bytes; a safetensors file is shown as
its header table (tensor names, dtypes, shapes), reading only the bounded header, never the tensors; any
other file (and text too large to show) as its size and sha256 with a download link. Paths obey the
manifest path rule (``hub_rules.check_path``): ``..`` and friends are a 400 before anything is read.
Private repos stay 404 to everyone but those who may see them (the same ``resolve`` as every page)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from hub_rules import PathRefused, check_path

from ..errors import Invalid
from ..services import gates
from ..services import versions as version_service
from ..services.context import Hub
from ..services.safetensors_check import header_length, read_header
from ..services.versions import file_of
from ..services.views import repo_json
from .render import page
from .routing import HubDep, PageRoute, VisitorDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TEXT_LIMIT = 512 * 1024  # bytes of text rendered on a page; larger files are offered as a download
TENSORS_SHOWN = 2000  # rows of a safetensors header table


def _read(hub: Hub, entry, limit: int) -> bytes:
    if entry.size == 0:
        return b""
    return b"".join(hub.store.open(entry.digest, 0, min(entry.size, limit) - 1))


def _as_text(data: bytes) -> str | None:
    """The bytes as text, or None when they look binary (a NUL byte, or not UTF-8)."""
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def safetensors_table(hub: Hub, entry) -> tuple[list[dict], dict]:
    """``([{"name", "dtype", "shape", "params"}], __metadata__)`` from the header alone (bounded by
    ``max_header_bytes``, as at publish); a malformed header is a 422 with its one-line reason."""
    prefix = _read(hub, entry, 8)
    length = header_length(prefix, entry.size, hub.settings.max_header_bytes, entry.path)
    raw = read_header(hub.store.open(entry.digest, 8, 8 + length - 1), length) if length else b"{}"
    try:
        header = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        raise Invalid(f"{entry.path}: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    rows = []
    for name in sorted(header)[:TENSORS_SHOWN]:
        info = header[name] if isinstance(header[name], dict) else {}
        shape = info.get("shape") if isinstance(info.get("shape"), list) else []
        params = 1
        for dim in shape:
            params *= dim if isinstance(dim, int) else 0
        rows.append({"name": name, "dtype": str(info.get("dtype", "")), "shape": shape, "params": params})
    return rows, metadata if isinstance(metadata, dict) else {}


def _version(hub: Hub, visitor, namespace: str, name: str, rev: str):
    repo, row = version_service.resolve(hub, visitor.principal, namespace, name, rev)
    return repo_json(repo), row


@router.get("/{namespace}/{name}/tree/{rev}")
def tree_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str, rev: str):
    repo, row = _version(hub, visitor, namespace, name, rev)
    return page(
        request,
        visitor,
        "tree.html",
        repo=repo,
        version=row,
        rev=rev,
        files=row.files,
        total=sum(f.size for f in row.files),
    )


@router.get("/{namespace}/{name}/blob/{rev}/{path:path}")
def blob_page(request: Request, hub: HubDep, visitor: VisitorDep, namespace: str, name: str, rev: str, path: str):
    try:
        check_path(path)
    except PathRefused as exc:
        raise Invalid(str(exc)) from None
    found, row = version_service.resolve(hub, visitor.principal, namespace, name, rev)
    gates.require_access(hub, visitor.principal, found)  # a gated repo's file list is public, its contents are not
    repo = repo_json(found)
    entry = file_of(row, path)
    view = {"kind": "binary", "lines": None, "tensors": None, "metadata": None, "too_large": False}
    if path.endswith(".safetensors"):
        view["kind"] = "safetensors"
        view["tensors"], view["metadata"] = safetensors_table(hub, entry)
    elif entry.size > TEXT_LIMIT:
        view["too_large"] = True  # not read at all: offered as a download
    else:
        text = _as_text(_read(hub, entry, TEXT_LIMIT))
        if text is not None:
            view["kind"] = "text"
            view["lines"] = text.splitlines() or [""]
    return page(
        request,
        visitor,
        "blob.html",
        repo=repo,
        version=row,
        rev=rev,
        entry=entry,
        view=view,
        text_limit=TEXT_LIMIT,
        shown_limit=TENSORS_SHOWN,
    )

"""Turn an HF NDJSON commit into the file list of a new hub version.

``huggingface_hub`` sends one JSON object per line: a ``header`` (summary, description,
parentCommit), then ``file`` lines carrying base64 content (our preupload always answers
"regular"), and ``deletedFile``/``deletedFolder`` lines. Files not mentioned are kept from
the parent version, exactly like a git commit. LFS/Xet pointers are refused: the content
must travel here so it is hashed and validated like any other upload.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field

from ..errors import Unprocessable as HubDomainError
from . import names
from .hf_backend import HfBackend, HfFile, HfPrincipal, Invalid



@dataclass
class ParsedCommit:
    summary: str = ""
    description: str = ""
    parent_commit: str | None = None
    added: dict[str, bytes] = field(default_factory=dict)
    deleted_files: set[str] = field(default_factory=set)
    deleted_folders: set[str] = field(default_factory=set)


def check_path(path: str) -> str:
    """The hub's own path rule (``names.check_path``), reported as an HF-view error."""
    try:
        return names.check_path(path)
    except HubDomainError as exc:
        raise Invalid(str(exc)) from None


def parse_ndjson(body: bytes) -> ParsedCommit:
    commit = ParsedCommit()
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            key, value = item["key"], item["value"]
        except (ValueError, KeyError, TypeError):
            raise Invalid(f"commit line {number} is not a {{key, value}} JSON object") from None
        if key == "header":
            commit.summary = str(value.get("summary") or "")
            commit.description = str(value.get("description") or "")
            commit.parent_commit = value.get("parentCommit")
        elif key == "file":
            path = check_path(str(value.get("path", "")))
            if value.get("encoding", "base64") != "base64":
                raise Invalid(f"{path}: only base64 file content is supported")
            try:
                commit.added[path] = base64.b64decode(value.get("content", ""), validate=True)
            except (binascii.Error, ValueError):
                raise Invalid(f"{path}: content is not valid base64") from None
        elif key == "lfsFile":
            raise Invalid(
                f"{value.get('path')}: LFS/Xet uploads are not supported by this hub; "
                "files are sent inline (preupload answers 'regular')"
            )
        elif key == "deletedFile":
            commit.deleted_files.add(str(value.get("path", "")))
        elif key == "deletedFolder":
            commit.deleted_folders.add(str(value.get("path", "")).rstrip("/") + "/")
        else:
            raise Invalid(f"commit line {number}: unsupported operation {key!r}")
    return commit


def apply_commit(
    backend: HfBackend, who: HfPrincipal, parent: list[HfFile], commit: ParsedCommit
) -> list[HfFile]:
    """Store the added bytes as blobs and return the new version's full file list."""
    files = {
        f.path: f
        for f in parent
        if f.path not in commit.deleted_files
        and not any(f.path.startswith(folder) for folder in commit.deleted_folders)
    }
    for path, data in commit.added.items():
        stored = backend.put_blob(who, io.BytesIO(data))
        files[path] = HfFile(path=path, size=stored.size, digest=stored.digest)
    return sorted(files.values(), key=lambda f: f.path)

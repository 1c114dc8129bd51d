"""JSON shapes of repos and versions exactly as docs/contracts.md lists them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..db.models import Repo, Version
from .card import EMPTY_METADATA


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def repo_json(repo: Repo) -> dict[str, Any]:
    metadata = dict(EMPTY_METADATA)
    metadata.update(json.loads(repo.metadata_json or "{}"))
    signature = metadata.pop("signature", None)  # of the latest version, recorded when it was published
    return {
        "id": f"{repo.namespace}/{repo.name}",
        "namespace": repo.namespace,
        "name": repo.name,
        "kind": repo.kind,
        "private": repo.private,
        "downloads": repo.downloads,
        "likes": repo.likes or 0,
        "created_at": iso(repo.created_at),
        "updated_at": iso(repo.updated_at),
        "latest_version": repo.latest_version,
        "metadata": metadata,
        "signature": signature,
    }


def version_summary(version: Version) -> dict[str, Any]:
    return {
        "version": version.version,
        "commit": version.commit,
        "created_at": iso(version.created_at),
        "author": version.author,
        "yanked": version.yanked,
        "yank_reason": version.yank_reason,
        "size": version.size,
        "downloads": version.downloads or 0,
        "signature": {"signed_by": version.signed_by, "key": version.signing_key} if version.signing_key else None,
    }


def version_detail(repo: Repo, version: Version, signature: dict | None = None) -> dict[str, Any]:
    """``signature``: the live status from ``signatures.signature_status`` (key revoked? namespace owner's?)."""
    from .card import metadata_from_card

    card = json.loads(version.card_json or "{}")
    summary = version_summary(version)
    if signature is not None:
        summary["signature"] = signature
    return {
        **summary,
        "repo": f"{repo.namespace}/{repo.name}",
        "message": version.message,
        "files": [{"path": f.path, "size": f.size, "digest": f.digest} for f in version.files],
        "metadata": metadata_from_card(card),
        "card": card,
    }

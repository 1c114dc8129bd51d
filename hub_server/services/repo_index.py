"""What a repo shows in search and on its page comes from its latest live version: the card's
indexed fields (method, task, base, tags, search text) and that version's signature. Re-done
whenever the latest changes (publish, yank, delete), so yanking a signed latest never leaves
the repo claiming a signature its latest version lacks."""

from __future__ import annotations

import json

from ..db.models import Repo, RepoTag, Version
from .card import metadata_from_card
from .search_terms import set_search_text


def index_latest(repo: Repo, latest: Version | None) -> None:
    """Index ``repo`` from ``latest`` (None: no live version; the signature claim is dropped)."""
    if latest is None:
        metadata = json.loads(repo.metadata_json or "{}")
        if metadata.get("signature") is not None:
            repo.metadata_json = json.dumps({**metadata, "signature": None}, default=str)
        return
    card = json.loads(latest.card_json or "{}")
    signature = {"signed_by": latest.signed_by, "key": latest.signing_key} if latest.signing_key else None
    index_metadata(repo, card if isinstance(card, dict) else {}, signature)


def index_metadata(repo: Repo, card: dict, signature: dict | None) -> None:
    metadata = metadata_from_card(card)
    repo.metadata_json = json.dumps({**metadata, "signature": signature}, default=str)
    for column in ("method", "task", "base_id", "base_fingerprint", "fingerprint", "license"):
        value = metadata[column]
        setattr(repo, column, value[:200] if isinstance(value, str) else None)
    set_search_text(
        repo,
        " ".join(
            [
                f"{repo.namespace}/{repo.name}",
                metadata["usage"] or "",
                " ".join(metadata["tags"]),
                metadata["method"] or "",
            ]
        ),
    )
    wanted = {t[:100] for t in metadata["tags"]}
    repo.tags[:] = [t for t in repo.tags if t.tag in wanted]
    have = {t.tag for t in repo.tags}
    repo.tags.extend(RepoTag(tag=t) for t in sorted(wanted - have))

"""The hub's part of `hub find` and `hub compose`: which adapters to consider, pulled to local directories.

``adapters.composition`` scores and composes local directories only; this module asks the hub which adapters are
pinned to the base's fingerprint (optionally narrowed by a search query), pulls each version and records
its commit id for the lineage. Adapters the query finds that are pinned elsewhere are returned as skipped
with the reason, without pulling them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import HubError
from .pinning import HUB_SCHEME
from .refs import parse_repo_ref

__all__ = ["candidate_for", "hub_candidates"]


def _pulled(client: Any, repo: str, ref: str | None, downloads: int | None = None) -> Any:
    from adapters.composition.from_examples import Candidate

    detail = client.resolve(repo, ref)
    path = client.pull(repo, detail["version"])
    return Candidate(f"{repo}@{detail['version']}", Path(path), detail.get("commit"), downloads)


def candidate_for(client_factory: Any, ref: str) -> Any:
    """A candidate from a local adapter directory or ``[hub://]NS/NAME[@VERSION]`` (pulled)."""
    from adapters.composition.from_examples import Candidate
    from adapters.resolver import is_reference

    path = Path(ref).expanduser()
    if path.is_dir():
        return Candidate(str(ref), path)
    if not is_reference(ref):
        raise HubError(f"{ref}: no such adapter directory (hub references look like NS/NAME[@VERSION])")
    text = ref.removeprefix(HUB_SCHEME)
    parsed = parse_repo_ref(text)
    return _pulled(client_factory(), parsed.repo_id, parsed.ref)


def hub_candidates(client: Any, fingerprint: str, query: str | None = None, limit: int = 50) -> Any:
    """``(candidates, skipped)``: adapters pinned to ``fingerprint`` (pulled), and those the query found
    that cannot apply (pinned to other weights, or not pinned at all) with why."""
    from adapters.composition.from_examples import Skipped

    items = client.search(query, kind="adapter", fingerprint=fingerprint, limit=limit)
    candidates, skipped, seen = [], [], set()
    for item in items:
        repo, version = item.get("id"), item.get("latest_version")
        seen.add(repo)
        if not version:
            skipped.append(Skipped(str(repo), "no published version"))
            continue
        try:
            candidates.append(_pulled(client, repo, version, item.get("downloads")))
        except HubError as exc:
            skipped.append(Skipped(f"{repo}@{version}", f"cannot pull: {exc}"))
    if query:
        for item in client.search(query, kind="adapter", limit=limit):
            if item.get("id") in seen:
                continue
            meta = item.get("metadata") or {}
            label = f"{item.get('id')}@{item.get('latest_version')}"
            if meta.get("base_fingerprint"):
                skipped.append(
                    Skipped(
                        label,
                        f"pinned to another base: {meta.get('base_id') or '?'} "
                        f"({meta['base_fingerprint']}), not {fingerprint}",
                    )
                )
            else:
                skipped.append(Skipped(label, "not pinned to a base; cannot verify it fits these weights"))
    return candidates, skipped

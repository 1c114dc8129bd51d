"""Who each input of a composition is: ``ns/name@version`` and its commit id, for the provenance record.

A hub reference is resolved and pulled (verified like any pull); a local directory that is a
snapshot in the cache is named by the version it came from; any other directory gets the commit
id the hub would give it (the same manifest rule), so identical bytes get the same id everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.resolver import is_reference, resolve_adapter

from .manifest import build_manifest, commit_id
from .refs import parse_repo_ref


def resolve_parents(refs: list[str], client_factory: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """``(directories, [{"id", "version", "commit"}])`` for adapter dirs or hub references."""
    dirs, parents, client = [], [], None
    try:
        for ref in refs:
            path = Path(ref)
            if path.is_dir():
                dirs.append(str(path))
                parents.append(_local_identity(path))
                continue
            if not is_reference(ref):  # a path that is not there: the core's one "no such adapter" line
                resolve_adapter(ref)
            if client is None:
                client = client_factory()
            repo = parse_repo_ref(ref)
            detail = client.resolve(repo.repo_id, repo.ref)
            dirs.append(str(client.pull(repo.repo_id, detail["version"])))
            parents.append({"id": repo.repo_id, "version": detail["version"], "commit": detail["commit"]})
    finally:
        if client is not None:
            client.close()
    return dirs, parents


def _local_identity(path: Path) -> dict[str, Any]:
    from . import config
    from .cache import LocalCache

    cache = LocalCache(config.cache_dir())
    snapshots = (cache.root / "snapshots").resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(snapshots):
        parts = resolved.relative_to(snapshots).parts
        if len(parts) == 3:
            ns, name, version = parts
            known = cache.read_refs(ns, name)["versions"].get(version) or {}
            if known.get("commit"):
                return {"id": f"{ns}/{name}", "version": version, "commit": known["commit"]}
    return {"id": None, "version": None, "commit": commit_id(build_manifest(path))}

"""A hub's "not found" for a repo or a version, rewritten into one line that names what does exist and
what to do next: the versions newest first with the nearest match, or the closest repo names of the
namespace. Asked only after the hub said 404, so a pull that succeeds costs nothing more.
"""

from __future__ import annotations

import difflib
from typing import Any

from hub_rules import is_range, is_version, sort_key

from .errors import HubError, NotFound

__all__ = ["explain_not_found", "nearest_version", "no_search_match"]

SHOWN = 10  # names listed in one line at most


def nearest_version(versions: list[str], ref: str) -> str | None:
    """The newest version at or below an exact ``ref``, else the oldest above it; for a range, a commit id or
    ``main``: the newest. ``versions`` newest first."""
    if not versions:
        return None
    if not is_version(ref) or is_range(ref):
        return versions[0]
    wanted = sort_key(ref)
    below = [v for v in versions if sort_key(v) <= wanted]
    return below[0] if below else versions[-1]


def no_search_match(filters: dict[str, Any]) -> str:
    """What to do when a search finds nothing: which filters it used, and how to widen it."""
    used = ", ".join(f"{key}={value!r}" for key, value in filters.items() if value not in (None, ""))
    if not used:
        return "no repository you can see on this hub (push one with: hub push DIR NS/NAME --version 1.0.0)"
    return f"no repository matches {used}; drop a filter, or run `hub search` alone to list every repository"


def _listed(names: list[str], more_hint: str) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more ({more_hint})" if len(names) > SHOWN else "")


def _server_message(exc: HubError) -> str:
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return " ".join(str(message).split())[:300] if message else str(exc)


def explain_not_found(http: Any, namespace: str, name: str, ref: str | None, exc: NotFound) -> NotFound:
    """A NotFound (same code and status) whose message lists the repo's versions or the namespace's repos."""
    repo_id = f"{namespace}/{name}"
    try:
        rows = http.json("GET", f"/api/v1/repos/{namespace}/{name}/versions")["items"]
        versions = [str(row["version"]) for row in rows if isinstance(row, dict) and "version" in row]
    except NotFound:
        message = _missing_repo(http, namespace, name)
    except (HubError, KeyError, TypeError):
        return exc  # the hub cannot say more: its own answer stands
    else:
        message = _missing_version(repo_id, ref or "main", versions, _server_message(exc))
    explained = NotFound(message, code=exc.code, status=exc.status)
    explained.body = getattr(exc, "body", None)  # type: ignore[attr-defined]
    return explained


def _missing_version(repo_id: str, ref: str, versions: list[str], said: str) -> str:
    versions = sorted(versions, key=sort_key, reverse=True)
    if not versions:
        return f"{said}; {repo_id} has no versions yet (publish one: hub push DIR {repo_id} --version 1.0.0)"
    nearest = nearest_version(versions, ref)
    listed = _listed(versions, f"hub versions {repo_id}")
    return f"{said}; versions (newest first): {listed}; nearest: {nearest} (hub pull {repo_id}@{nearest})"


def _missing_repo(http: Any, namespace: str, name: str) -> str:
    said = f"repository {namespace}/{name} not found"
    try:
        body = http.json("GET", "/api/v1/search", params={"namespace": namespace, "limit": 100, "sort": "name"})
        names = sorted({str(item["id"]).split("/", 1)[-1] for item in body.get("items", []) if "id" in item})
    except (HubError, AttributeError, TypeError, KeyError):
        return f"{said} (or it is private and this token cannot see it)"
    if not names:
        return f"{said}: {namespace} has no repositories you can see (hub search lists what there is)"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(f'{namespace}/{c}' for c in close)}?" if close else ""
    return f"{said}{hint} ({namespace} has: {_listed(names, f'hub search --namespace {namespace}')})"

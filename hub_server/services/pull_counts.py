"""Which pulls count: a client reports each real pull (bytes fetched, not a cached re-pull), and
one caller's reports of one version count once per ``HUB_DOWNLOAD_COUNT_WINDOW_SECONDS``
(default an hour), keyed by the signed-in user (any of their tokens) or, anonymously, by
the client address — so a loop of anonymous POSTs cannot push a repo to the top of the
downloads sort. The counts themselves are buffered by ``download_counts``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from .auth import Principal
from .context import Hub
from .repos import find_repo
from .versions import live_versions, pick


def pulled_version(hub: Hub, who: Principal | None, namespace: str, name: str, version: str) -> tuple[int, int]:
    """``(repo id, version id)`` of the pulled version (404 when the caller cannot see it)."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        row = pick(live_versions(s, repo), version)
        return repo.id, row.id


async def count_pull(hub: Hub, who: Principal | None, address: str, namespace: str, name: str, version: str) -> bool:
    """Count one reported pull unless this caller's pull of that version was counted in the window."""
    repo_id, version_id = await run_in_threadpool(pulled_version, hub, who, namespace, name, version)
    caller = f"user:{who.user_id}" if who is not None else f"addr:{address}"
    if not await hub.limits.first_in_window(
        hub.settings.download_count_window_seconds, "pull", caller, str(version_id)
    ):
        return False
    hub.downloads.add(repo_id, version_id)
    return True

"""Where a download's bytes come from: with ``HUB_STORAGE_REDIRECT=1`` and a store that can
hand out short-lived URLs (S3), the caller is sent straight to storage, so no hub worker
relays the bytes. Callers reach this only after their read access was checked."""

from __future__ import annotations

from .context import Hub


def storage_redirect_url(hub: Hub, digest: str, filename: str | None = None) -> str | None:
    """The presigned URL to redirect to, or None when the hub streams the bytes itself."""
    if not hub.settings.storage_redirect:
        return None
    return hub.store.download_url(digest, hub.settings.storage_redirect_seconds, filename)

"""A user's webhooks on a hub (``HubClient.webhooks``): the same ``/api/settings/webhooks`` calls that
``huggingface_hub.HfApi`` makes (``create_webhook`` and the rest), plus each webhook's delivery log."""

from __future__ import annotations

import builtins
from typing import Any

from ._http import HubHTTP

BASE = "/api/settings/webhooks"


class Webhooks:
    def __init__(self, http: HubHTTP) -> None:
        self._http = http

    def list(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._http.json("GET", BASE)
        return found

    def get(self, webhook_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._http.json("GET", f"{BASE}/{webhook_id}")["webhook"]
        return found

    def create(
        self,
        url: str,
        watched: builtins.list[dict[str, str]],
        *,
        domains: builtins.list[str] | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """``watched``: ``{"type": "user"|"org"|"model"|"dataset", "name": ...}`` items; ``domains``: ``repo``,
        ``discussion`` (default both); without ``secret`` the hub makes one (shown in the answer)."""
        body: dict[str, Any] = {"url": url, "watched": watched}
        if domains is not None:
            body["domains"] = domains
        if secret is not None:
            body["secret"] = secret
        made: dict[str, Any] = self._http.json("POST", BASE, json=body)["webhook"]
        return made

    def set_disabled(self, webhook_id: str, disabled: bool) -> dict[str, Any]:
        action = "disable" if disabled else "enable"
        changed: dict[str, Any] = self._http.json("POST", f"{BASE}/{webhook_id}/{action}")["webhook"]
        return changed

    def delete(self, webhook_id: str) -> None:
        self._http.json("DELETE", f"{BASE}/{webhook_id}")

    def deliveries(self, webhook_id: str, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """The webhook's delivery log, newest first."""
        found: builtins.list[dict[str, Any]] = self._http.json(
            "GET", f"{BASE}/{webhook_id}/deliveries", params={"limit": limit}
        )["deliveries"]
        return found

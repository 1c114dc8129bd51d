"""The hub's part in finding things for the ML core: pull references, offer ``base`` repos by fingerprint.

``adapters`` never imports this package. Commands that hand adapters to the core build a
``adapters.resolver.Resolver`` here and pass it in: ``pull`` turns ``NS/NAME[@V]`` and ``hub://NS/NAME[@V]``
into pulled directories, ``remote_bases`` searches the configured hub for a ``base`` repo whose own
weights have the pinned fingerprint, pulls it and checks the weights. Every base pulled from a hub is
remembered in the local base index (``pulled_bases``, called by ``HubClient.pull``), so the next lookup is a
few ``stat`` calls.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import HubError
from .pinning import HUB_SCHEME
from .refs import parse_repo_ref

__all__ = ["hub_resolver"]


def _pull(client: Callable[[], Any], ref: str) -> Path:
    text = ref.removeprefix(HUB_SCHEME)
    parsed = parse_repo_ref(text)
    return client().pull(parsed.repo_id, parsed.ref)


def _remote_bases(client: Callable[[], Any]) -> Callable[[Any], tuple[Path | None, str]]:
    def find(pin: Any) -> tuple[Path | None, str]:
        from adapters.base.fingerprint import fingerprint

        hub = client()
        where = f"hub {hub.endpoint}"
        try:
            items = hub.search(kind="base", model_fingerprint=pin.fingerprint, limit=10)
        except HubError as exc:
            return None, f"{where} ({type(exc).__name__})"
        if not items:
            return None, f"{where} (no base repo with that fingerprint)"
        for item in items:
            repo, version = item.get("id"), item.get("latest_version")
            if not repo or not version:
                continue
            try:
                path = hub.pull(repo, version)
            except HubError:
                continue
            if fingerprint(path) == pin.fingerprint:
                return path, f"{where} ({repo}@{version})"
        return None, f"{where} ({len(items)} base repo(s) named that fingerprint; none had those weights)"

    return find


def hub_resolver(endpoint: str | None = None, token: str | None = None) -> Any:
    """A ``Resolver`` backed by one lazily created ``HubClient`` (no connection until a reference needs it)."""
    from adapters.resolver import Resolver

    made: list[Any] = []

    def client() -> Any:
        if not made:
            from .client import HubClient

            made.append(HubClient(endpoint=endpoint, token=token))
        return made[0]

    return Resolver(pull=lambda ref: _pull(client, ref), remote_bases=_remote_bases(client))

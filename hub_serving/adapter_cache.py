"""The adapters a server holds: pulled from the hub on first use with every check ``hub pull`` makes, pin
checked against the served base, kept in an LRU of ``max_adapters`` slots.

Why: requests name adapters as ``NS/NAME@VERSION-OR-RANGE``. A range is resolved once per request (one
``resolve`` call, logged) to an exact version, which is the cache key, so two requests on ``^1.0`` after a
release may run different versions but each runs one. An adapter in use by a running request is never
evicted; when every slot is in use the request is refused (429) rather than queued behind an eviction.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ServeError, not_found

log = logging.getLogger("hub_serving")


@dataclass
class Lease:
    """A request's hold on one loaded adapter (``key`` None: the bare base)."""

    key: str | None
    repo_id: str | None = None
    version: str | None = None


@dataclass
class _Slot:
    path: Path
    in_use: int = 0
    nbytes: int = 0


def _hub_refusal(exc: Exception, model: str) -> ServeError:
    from hub_client import (
        BadReference,
        BadSignature,
        Forbidden,
        NotFound,
        TransportError,
        Unauthorized,
    )

    if isinstance(exc, NotFound):
        return not_found(f"model {model!r} not found on the hub: {exc}")
    if isinstance(exc, BadReference):
        return ServeError(400, f"invalid model {model!r}: {exc}", param="model", code="invalid_model")
    if isinstance(exc, BadSignature):
        return ServeError(403, f"model {model!r} refused: {exc}", type="permission_error", code="bad_signature")
    if isinstance(exc, (Forbidden, Unauthorized)):
        return ServeError(
            403,
            f"model {model!r}: the hub refused this server's token: {exc}",
            type="permission_error",
            code="hub_refused",
        )
    if isinstance(exc, TransportError):
        return ServeError(
            502, f"the hub could not be reached for {model!r}: {exc}", type="server_error", code="hub_unreachable"
        )
    return ServeError(400, f"model {model!r} refused: {exc}", param="model", code="invalid_model")


class AdapterCache:
    """``acquire(model)`` → ``Lease``; ``release(lease)`` when the request is done."""

    def __init__(
        self,
        runtime: Any,
        pin: Any,
        max_adapters: int,
        client_factory: Callable[[], Any],
        require_signed: bool = False,
        lock: threading.Lock | None = None,
        metrics: Any = None,
    ):
        self.runtime = runtime
        self.pin = pin
        self.max_adapters = max(1, int(max_adapters))
        self._client_factory = client_factory
        self._client: Any = None
        self.require_signed = require_signed
        self.runtime_lock = lock or threading.Lock()  # held by the engine during each forward
        self.metrics = metrics
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._slots)

    def acquire(self, model: str) -> Lease:
        """Resolve ``model`` (``NS/NAME[@VERSION-OR-RANGE]``) to one exact version and hold it loaded."""
        from hub_client import HubError
        from hub_client.refs import parse_repo_ref

        try:
            ref = parse_repo_ref(model)
            detail = self.client.resolve(ref.repo_id, ref.ref)
        except HubError as exc:
            raise _hub_refusal(exc, model) from None
        version = str(detail.get("version") or "")
        if not version:
            raise ServeError(502, f"the hub answered no version for {model!r}", type="server_error")
        key = f"{ref.repo_id}@{version}"
        if ref.ref != version:
            log.info("resolved %s to %s (commit %s)", model, key, detail.get("commit"))
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                slot.in_use += 1
                self._slots.move_to_end(key)
                return Lease(key, ref.repo_id, version)
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:  # one pull per adapter, however many requests ask at once
            with self._lock:
                slot = self._slots.get(key)
                if slot is not None:
                    slot.in_use += 1
                    self._slots.move_to_end(key)
                    return Lease(key, ref.repo_id, version)
            path = self._pull_and_check(ref.repo_id, version, model)
            self._load(key, path)
        return Lease(key, ref.repo_id, version)

    def release(self, lease: Lease) -> None:
        if lease.key is None:
            return
        with self._lock:
            slot = self._slots.get(lease.key)
            if slot is not None and slot.in_use > 0:
                slot.in_use -= 1

    # -- loading ----------------------------------------------------------------------------
    def _pull_and_check(self, repo_id: str, version: str, model: str) -> Path:
        from adapters import AdapterError, BaseMismatchError, check_pin, read_card
        from hub_client import HubError

        try:
            path = self.client.pull(repo_id, version, require_signed=self.require_signed or None)
        except HubError as exc:
            raise _hub_refusal(exc, model) from None
        card = read_card(path)
        front = dict(card.front) if card else {}
        if (front.get("adapter_hub") or {}).get("kind") == "base":
            raise ServeError(
                400,
                f"model {model!r} is a base model, not an adapter; this server serves {self.pin.id}",
                param="model",
                code="not_an_adapter",
            )
        try:
            check_pin(front, self.pin, adapter_name=f"{repo_id}@{version}")
        except BaseMismatchError as exc:
            first = str(exc).split("; pass --allow-base-mismatch")[0]
            raise ServeError(
                400, f"{first}; this server cannot serve it", param="model", code="base_mismatch"
            ) from None
        except AdapterError as exc:
            raise ServeError(400, f"model {model!r} refused: {exc}", param="model") from None
        return path

    def _load(self, key: str, path: Path) -> None:
        from adapters import AdapterError

        evicted: list[str] = []
        with self._lock:
            while len(self._slots) >= self.max_adapters:
                victim = next((k for k, s in self._slots.items() if s.in_use == 0), None)
                if victim is None:
                    raise ServeError(
                        429,
                        f"all {self.max_adapters} adapter slots are in use by running requests; retry shortly",
                        type="rate_limit_error",
                        code="adapter_slots_busy",
                    )
                del self._slots[victim]
                evicted.append(victim)
        with self.runtime_lock:
            for victim in evicted:
                self.runtime.remove(victim)
                log.info("evicted %s", victim)
                if self.metrics:
                    self.metrics.adapter_evictions.inc()
            try:
                row = self.runtime.add(key, path)
            except AdapterError as exc:
                raise ServeError(
                    400, f"model {key!r} cannot be served: {exc}", param="model", code="unsupported_adapter"
                ) from None
        with self._lock:
            self._slots[key] = _Slot(path, in_use=1, nbytes=row.nbytes())
        log.info("loaded %s (%s, %d bytes)", key, row.method, row.nbytes())
        if self.metrics:
            self.metrics.adapter_loads.inc()

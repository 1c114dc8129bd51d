"""One attempt of a webhook delivery, start to finish: claim it from the hub (a message handed out twice is
sent once), check the target's addresses again (a name may resolve elsewhere since the webhook was saved:
DNS rebinding) and connect to the very address checked, POST the exact body with the headers the hub
signed, and report the status code or the one-line reason. Redirects are not followed and proxies from
the environment are not used (either would send the request somewhere unchecked). The hub decides about
retries, backoff and disabling. Needs no ML stack."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from hub_client import HubClient
from hub_client.errors import Conflict, NotFound
from hub_rules import TargetRefused
from hub_rules.webhook_targets import check_url, pinned_url, resolve

log = logging.getLogger("hub_worker.webhooks")
SNIPPET_BYTES = 200
_DELIVERY_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: str
    status: str  # delivered, failed (this attempt; the hub may retry), skipped (not ours to send now)
    status_code: int | None = None
    reason: str = ""


def _one_line(text: str, limit: int = 1000) -> str:
    return " ".join(text.split())[:limit]


def post(job: dict[str, Any]) -> tuple[int | None, str]:
    """(status code or None, why it failed or ""): one POST of ``job`` as the hub's claim describes it."""
    try:
        target = check_url(job["url"])
        address = resolve(target, allow_private=bool(job.get("allow_private")))[0]
    except TargetRefused as exc:
        return None, str(exc)
    headers = {**job["headers"], "Host": target.host_header}
    extensions = {"sni_hostname": target.host} if target.is_https else {}
    timeout = float(job.get("timeout_seconds") or 10.0)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http,
            http.stream(
                "POST",
                pinned_url(target, address),
                content=str(job["body"]).encode(),
                headers=headers,
                extensions=extensions,
            ) as answer,
        ):
            status = answer.status_code
            snippet = b""
            if not 200 <= status < 300:
                for chunk in answer.iter_bytes():
                    snippet += chunk
                    if len(snippet) >= SNIPPET_BYTES:
                        break
    except httpx.HTTPError as exc:
        return None, _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if 200 <= status < 300:
        return status, ""
    said = _one_line(snippet[:SNIPPET_BYTES].decode("utf-8", "replace"), SNIPPET_BYTES)
    return status, f"the receiver answered HTTP {status}" + (f": {said}" if said else "")


def run_delivery(delivery_id: str, *, endpoint: str, token: str | None, worker: str) -> DeliveryOutcome:
    if not _DELIVERY_ID.fullmatch(delivery_id):  # a forged message names no path of the hub
        return DeliveryOutcome(delivery_id[:40], "skipped", reason="not a delivery id")
    with HubClient(endpoint=endpoint, token=token) as client:
        try:
            job = client.claim_delivery(delivery_id, worker)
        except (Conflict, NotFound) as exc:  # sent, being sent, not due, or another hub's on a shared broker
            log.info("delivery %s skipped: %s", delivery_id, exc)
            return DeliveryOutcome(delivery_id, "skipped", reason=str(exc))
        started = time.monotonic()
        status_code, reason = post(job)
        elapsed = int((time.monotonic() - started) * 1000)
        try:
            client.report_delivery(
                delivery_id,
                worker,
                attempt=job["attempt"],
                status_code=status_code,
                error=reason,
                duration_ms=elapsed,
            )
        except Conflict as exc:  # the hub gave up on this claim meanwhile (too slow)
            log.warning("delivery %s: result not recorded: %s", delivery_id, exc)
            return DeliveryOutcome(delivery_id, "skipped", status_code, str(exc))
        if reason:
            log.warning("delivery %s attempt %s failed: %s", delivery_id, job["attempt"], reason)
            return DeliveryOutcome(delivery_id, "failed", status_code, reason)
        log.info("delivery %s: HTTP %s in %d ms", delivery_id, status_code, elapsed)
        return DeliveryOutcome(delivery_id, "delivered", status_code)

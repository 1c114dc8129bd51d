"""One evaluation job, start to finish: claim it from the hub (a job handed out twice runs once), keep
the claim alive with heartbeats, pull what it names like any client, score it with ``adapters.evaluate``
and post the value, or the one-line reason it failed. The hub decides about retries and time-outs."""

from __future__ import annotations

import logging
import platform
import threading
from dataclasses import dataclass
from typing import Any

from hub_client import HubClient
from hub_client.errors import Conflict, NotFound
from hub_client.eval_sets import split_file

log = logging.getLogger("hub_worker")

TASKS_BY_METRIC = {"accuracy": "seq-cls"}


@dataclass(frozen=True)
class JobOutcome:
    job_id: str
    status: str  # done, failed, skipped (claimed elsewhere or already finished)
    value: float | None = None
    reason: str = ""


def evaluator_info() -> dict[str, str]:
    """What produced a number: the evaluator's versions and the hardware it ran on."""
    import importlib.metadata as md

    import torch

    found = {"evaluator": "adapters.evaluate", "python": platform.python_version()}
    for dist in ("adapter-hub", "torch", "transformers", "peft"):
        try:
            found[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    found["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    found["cpu"] = platform.processor() or platform.machine()
    return found


class _Heartbeat(threading.Thread):
    def __init__(self, client: HubClient, job_id: str, worker: str, every: float) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id[:8]}")
        self.client, self.job_id, self.worker, self.every = client, job_id, worker, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                self.client.evaluation_heartbeat(self.job_id, self.worker)
            except Exception as exc:  # noqa: BLE001 - a missed beat is retried; the hub's lease decides
                log.warning("heartbeat of %s failed: %s", self.job_id, exc)


def measure(client: HubClient, job: dict[str, Any], endpoint: str, token: str | None) -> tuple[float, int]:
    """Pull adapter and dataset, find the base by the adapter's pin (over HTTP too), evaluate."""
    from adapters.card import read_card
    from adapters.errors import AdapterError
    from adapters.evaluation import evaluate
    from hub_client.bases import hub_resolver

    adapter = client.pull(job["repo"], job["version"])
    dataset = client.pull(job["dataset"], job["dataset_revision"])
    card = read_card(adapter)
    task = (card.hub.get("task") if card else None) or TASKS_BY_METRIC.get(job["metric"], "causal-lm")
    result = evaluate(
        None,
        split_file(dataset, job["split"]),
        [adapter],
        task=str(task),
        progress=False,
        resolver=hub_resolver(endpoint, token),
    )
    value = result.as_dict().get(job["metric"])
    if value is None:
        raise AdapterError(
            f"this evaluator does not measure {job['metric']} on this data "
            f"(it measured {', '.join(k for k in result.as_dict() if k != 'n')})"
        )
    return float(value), result.n


def run_job(job_id: str, *, endpoint: str, token: str | None, worker: str) -> JobOutcome:
    with HubClient(endpoint=endpoint, token=token) as client:
        try:
            job = client.claim_evaluation(job_id, worker, evaluator_info())
        except (Conflict, NotFound) as exc:  # done, taken, or a job of another hub on a shared broker
            log.info("job %s skipped: %s", job_id, exc)
            return JobOutcome(job_id, "skipped", reason=str(exc))
        log.info(
            "job %s: %s@%s on %s@%s (%s)",
            job_id,
            job["repo"],
            job["version"],
            job["dataset"],
            job["dataset_revision"],
            job["metric"],
        )
        beat = _Heartbeat(client, job_id, worker, max(0.2, float(job.get("lease_seconds") or 60) / 4))
        beat.start()
        try:
            value, n = measure(client, job, endpoint, token)
        except Exception as exc:  # noqa: BLE001 - every failure is reported with its one-line reason
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:2000]
            log.warning("job %s failed: %s", job_id, reason)
            beat.stopped.set()
            client.report_evaluation(job_id, worker, status="failed", reason=reason)
            return JobOutcome(job_id, "failed", reason=reason)
        finally:
            beat.stopped.set()
        try:
            client.report_evaluation(job_id, worker, status="done", value=value, n=n)
        except Conflict as exc:  # timed out and failed meanwhile, or another worker's result came first
            log.warning("job %s: result not recorded: %s", job_id, exc)
            return JobOutcome(job_id, "skipped", value=value, reason=str(exc))
        log.info("job %s done: %s = %.4f on %d rows", job_id, job["metric"], value, n)
        return JobOutcome(job_id, "done", value=value)

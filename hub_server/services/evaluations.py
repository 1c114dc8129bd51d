"""Verified evaluations: one row per (version, declared eval) from the card's ``model-index``
(``hub_rules.eval_index``), a job on the queue for each, and the result a worker posts back.

States: ``queued`` → ``running`` (a worker claimed it) → ``done`` or ``failed``. A worker must claim a job
before working on it, so a job handed out twice (late acknowledgement, a redelivered message) runs once;
a result is recorded once, for the job id it was claimed under. Workers that go silent lose their lease
and the job is queued again; failures and time-outs count as attempts, up to ``eval_max_attempts``."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub_rules import DeclaredEval
from hub_rules.eval_index import disagrees

from ..db.models import Evaluation, Repo, Version, utcnow
from ..errors import Conflict, Forbidden, Invalid, NotFound
from .auth import Principal, require_user
from .context import Hub
from .eval_visibility import hidden_datasets
from .repos import find_repo
from .tokens import aware
from .webhook_events import evaluation_recorded

EVALUATOR_SCOPES = ("evaluate", "admin")
MAX_REASON = 2000


def _job_id() -> str:
    return uuid.uuid4().hex


def record_declared(
    session: Session, repo: Repo, version: Version, card: dict[str, Any], declared: list[DeclaredEval]
) -> list[str]:
    """Inside the publish transaction: one queued row per declared evaluation (``hub_rules.declared_evals``
    of the card and the ``.eval_results`` files); their job ids."""
    hub_meta = card.get("adapter_hub") if isinstance(card.get("adapter_hub"), dict) else {}
    pin = hub_meta.get("base") if isinstance(hub_meta.get("base"), dict) else {}
    jobs = []
    for one in declared:
        row = Evaluation(
            job_id=_job_id(),
            repo_id=repo.id,
            version_id=version.id,
            version=version.version,
            base_fingerprint=str(pin["fingerprint"]) if pin.get("fingerprint") else None,
            task=one.task,
            dataset=one.dataset,
            dataset_revision=one.revision,
            split=one.split,
            metric=one.metric,
            reported=one.reported,
            status="queued",
            attempts=0,
            created_at=utcnow(),
            evaluator_json="{}",
        )
        session.add(row)
        jobs.append(row.job_id)
    return jobs


def send(hub: Hub, job_ids: list[str]) -> None:
    """Hand the jobs to the queue; each one sent is stamped (``heartbeat_at``) so the lease loop leaves it."""
    for job_id in job_ids:
        if hub.queue.send_evaluation(job_id):
            with hub.db.write() as s:
                s.execute(
                    update(Evaluation)
                    .where(Evaluation.job_id == job_id, Evaluation.status == "queued")
                    .values(heartbeat_at=utcnow())
                )


def require_evaluator(who: Principal | None) -> Principal:
    who = require_user(who)
    if who.scope not in EVALUATOR_SCOPES:
        raise Forbidden(
            f"token scope {who.scope!r} cannot report evaluations; an operator creates one with "
            "`hub admin create-token NAME --scope evaluate`"
        )
    return who


def _one_line(text: Any, limit: int = 200) -> str:
    return " ".join(str(text or "").split())[:limit]


def _job(session: Session, job_id: str) -> Evaluation:
    row = session.scalar(select(Evaluation).where(Evaluation.job_id == job_id)) if len(job_id) <= 32 else None
    if row is None:
        raise NotFound(f"evaluation job {job_id} not found")
    return row


def job_json(row: Evaluation, repo: Repo) -> dict[str, Any]:
    """What a worker needs to run the job: the adapter by version, the dataset by version, split, metric."""
    return {
        "job_id": row.job_id,
        "repo": f"{repo.namespace}/{repo.name}",
        "version": row.version,
        "dataset": row.dataset,
        "dataset_revision": row.dataset_revision,
        "split": row.split,
        "metric": row.metric,
        "task": row.task,
        "base_fingerprint": row.base_fingerprint,
        "attempt": row.attempts,
        "time_limit_seconds": 0,
    }


def claim(hub: Hub, who: Principal | None, job_id: str, worker: str, evaluator: dict[str, Any]) -> dict[str, Any]:
    """The worker ``worker`` takes the job: 200 with what to run, or 409 when it is done, failed, or
    running on a worker still heard from."""
    who = require_evaluator(who)
    worker = _one_line(worker, 100) or who.name
    now = utcnow()
    stale = now - timedelta(seconds=hub.settings.eval_lease_seconds)
    with hub.db.write() as s:
        row = _job(s, job_id)
        if row.status in ("done", "failed"):
            raise Conflict(f"evaluation job {job_id} is already {row.status}")
        if row.status == "running" and (aware(row.heartbeat_at) or now) > stale:
            raise Conflict(f"evaluation job {job_id} is running on {row.worker}")
        out_of_attempts = row.attempts >= hub.settings.eval_max_attempts
        if out_of_attempts:  # recorded: the refusal is raised once this transaction has committed
            _finish_failed(row, row.reason or "no attempts left", now)
        else:
            row.status, row.worker, row.attempts = "running", worker, row.attempts + 1
            row.claimed_token_id = who.token_id  # while it runs, this token may download what the job names
            row.started_at = row.heartbeat_at = now
            row.evaluator_json = json.dumps(_bounded(evaluator))
            found = job_json(row, s.get(Repo, row.repo_id))  # type: ignore[arg-type]
    if out_of_attempts:
        raise Conflict(f"evaluation job {job_id} is already failed")
    found["time_limit_seconds"] = hub.settings.eval_time_limit_seconds
    found["lease_seconds"] = hub.settings.eval_lease_seconds
    return found


def _bounded(evaluator: Any) -> dict[str, Any]:
    if not isinstance(evaluator, dict):
        return {}
    return {_one_line(k, 40): _one_line(v, 200) for k, v in list(evaluator.items())[:20]}


def heartbeat(hub: Hub, who: Principal | None, job_id: str, worker: str) -> dict[str, Any]:
    require_evaluator(who)
    with hub.db.write() as s:
        row = _job(s, job_id)
        if row.status != "running" or row.worker != _one_line(worker, 100):
            raise Conflict(f"evaluation job {job_id} is not running on {_one_line(worker, 100)}")
        row.heartbeat_at = utcnow()
        return {"job_id": job_id, "status": row.status}


def _finish_failed(row: Evaluation, reason: str, now: datetime) -> None:
    row.status, row.reason, row.finished_at, row.value = "failed", reason[:MAX_REASON], now, None


def report(
    hub: Hub,
    who: Principal | None,
    job_id: str,
    worker: str,
    *,
    status: str,
    value: Any = None,
    n: Any = None,
    reason: str = "",
) -> tuple[dict[str, Any], bool]:
    """Record the result of ``job_id`` once: (row, retry?) where retry means it is queued again."""
    require_evaluator(who)
    if status not in ("done", "failed"):
        raise Invalid("status must be done or failed")
    if status == "done" and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise Invalid("a done evaluation needs a finite numeric value")
    worker = _one_line(worker, 100)
    now = utcnow()
    with hub.db.write() as s:
        row = _job(s, job_id)
        if row.status in ("done", "failed"):
            if row.status == status and (status == "failed" or row.value == float(value)):
                return evaluation_json(row, s.get(Repo, row.repo_id)), False  # the same result again: idempotent
            raise Conflict(f"evaluation job {job_id} is already {row.status}")
        if status == "done":
            row.status, row.value, row.finished_at, row.reason = "done", float(value), now, None
            row.n = n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
            row.worker = worker or row.worker
            return _announced(s, row), False
        reason = _one_line(reason, MAX_REASON) or "failed without a reason"
        if row.attempts >= hub.settings.eval_max_attempts:
            _finish_failed(row, reason, now)
            return _announced(s, row), False
        row.status, row.reason, row.heartbeat_at = "queued", reason, None
        return evaluation_json(row, s.get(Repo, row.repo_id)), True


def _announced(session: Session, row: Evaluation) -> dict[str, Any]:
    """A finished evaluation's JSON, announced to the repo's webhooks (``update``/``repo.evaluation``)."""
    repo = session.get(Repo, row.repo_id)
    found = evaluation_json(row, repo)
    if repo is not None:
        evaluation_recorded(session, repo, {**found, "verified": row.status == "done"})
    return found


def sweep(hub: Hub) -> list[str]:
    """Jobs whose worker went silent (lease), ran too long (time limit) or were never sent: queued again
    (or failed when out of attempts). Returns the job ids to send."""
    now = utcnow()
    lease = timedelta(seconds=hub.settings.eval_lease_seconds)
    limit = timedelta(seconds=hub.settings.eval_time_limit_seconds)
    resend = []
    with hub.db.write() as s:
        rows = s.scalars(select(Evaluation).where(Evaluation.status.in_(("queued", "running")))).all()
        for row in rows:
            beat, started = aware(row.heartbeat_at), aware(row.started_at)
            if row.status == "queued":
                if beat is None or _unclaimed_too_long(row, beat, now, hub.settings.eval_resend_seconds):
                    resend.append(row.job_id)
                continue
            if row.status != "running":
                continue
            if started is not None and now - started > limit:
                why = f"timed out after {hub.settings.eval_time_limit_seconds:g} s on {row.worker}"
            elif beat is None or now - beat > lease:
                why = f"worker {row.worker} stopped answering"
            else:
                continue
            if row.attempts >= hub.settings.eval_max_attempts:
                _finish_failed(row, why, now)
                _announced(s, row)
            else:
                row.status, row.reason, row.heartbeat_at = "queued", why, None
                resend.append(row.job_id)
    return resend


def _unclaimed_too_long(row: Evaluation, sent: datetime, now: datetime, resend_seconds: float) -> bool:
    """Sent ``resend_seconds`` ago (or, after resends, as long ago as it had waited before the last one)
    and still not claimed: its message is taken as lost. The doubling bounds the copies a long backlog
    gets to a few per job; a copy of a job already taken is skipped by its worker's claim (409)."""
    queued = aware(row.created_at) or sent
    return now - sent > max(timedelta(seconds=resend_seconds), sent - queued)


def reevaluate(hub: Hub, who: Principal | None, namespace: str, name: str, version: str) -> list[str]:
    """The owner (or an admin) asks for the declared evaluations of ``version`` to run again: new job ids."""
    with hub.db.write() as s:
        repo = find_repo(s, who, namespace, name)
        who = require_user(who)
        if not who.owns(namespace):
            raise Forbidden(f"{who.name} may not ask for evaluations of {namespace}/{name}")
        rows = s.scalars(select(Evaluation).where(Evaluation.repo_id == repo.id, Evaluation.version == version)).all()
        if not rows:
            raise NotFound(f"{namespace}/{name}@{version} declares no evaluations")
        for row in rows:
            row.job_id, row.status, row.value, row.reason, row.worker = _job_id(), "queued", None, None, None
            row.attempts, row.started_at, row.finished_at, row.heartbeat_at = 0, None, None, None
            row.created_at = utcnow()  # ``queued``: when this job id was queued
        jobs = [r.job_id for r in rows]
    send(hub, jobs)
    return jobs


def _iso(moment: datetime | None) -> str | None:
    moment = aware(moment)
    return moment.isoformat() if moment is not None else None


def evaluation_json(row: Evaluation, repo: Repo | None) -> dict[str, Any]:
    evaluator = json.loads(row.evaluator_json or "{}")
    hardware = {k: evaluator.pop(k) for k in ("device", "hardware", "cpu") if k in evaluator}
    return {
        "job_id": row.job_id,
        "repo": f"{repo.namespace}/{repo.name}" if repo else None,
        "version": row.version,
        "dataset": f"{row.dataset}@{row.dataset_revision}",
        "split": row.split,
        "task": row.task,
        "metric": row.metric,
        "value": row.value if row.status == "done" else None,
        "reported": row.reported,
        "n": row.n,
        "status": row.status,
        "reason": row.reason,
        "worker": row.worker,
        "attempts": row.attempts,
        "queued": _iso(row.created_at),
        "started": _iso(row.started_at),
        "finished": _iso(row.finished_at),
        "evaluator": evaluator,
        "hardware": hardware,
    }


def list_for_repo(hub: Hub, who: Principal | None, namespace: str, name: str) -> list[dict[str, Any]]:
    """Every evaluation of the repo's live versions, less those on eval sets ``who`` may not see."""
    with hub.db.read() as s:
        repo = find_repo(s, who, namespace, name)
        rows = s.execute(
            select(Evaluation, Version.created_at)
            .join(Version, Version.id == Evaluation.version_id)
            .where(Evaluation.repo_id == repo.id, Version.deleted.is_(False))
            .order_by(Version.created_at.desc(), Evaluation.dataset, Evaluation.split, Evaluation.metric)
        ).all()
        hidden = hidden_datasets(s, who, {row.dataset for row, _ in rows})
        return [evaluation_json(row, repo) for row, _ in rows if row.dataset not in hidden]


def verified_beside_reported(
    hub: Hub, who: Principal | None, namespace: str, name: str, version: str
) -> list[dict[str, Any]]:
    """The site's view of one version's evaluations: each row with ``far`` set when the card's claim is
    further from the verified value than the eval set's sampling error (the rule ``hub info`` marks)."""
    rows = [row for row in list_for_repo(hub, who, namespace, name) if row["version"] == version]
    for row in rows:
        row["far"] = disagrees(row["metric"], row["value"], row["reported"], row["n"])
    return rows


def has_open_jobs(hub: Hub) -> bool:
    with hub.db.read() as s:
        return s.scalar(select(Evaluation.id).where(Evaluation.status.in_(("queued", "running"))).limit(1)) is not None


async def run_sweeps_forever(hub: Hub) -> None:
    """The lease loop of each hub host (until the app's lifespan ends): a cheap read, and a write only
    when some job is open. Two hosts sweeping at once is harmless: a claim admits one worker."""
    import logging

    import anyio
    from starlette.concurrency import run_in_threadpool

    log = logging.getLogger("hub_server.evaluations")
    interval = max(0.5, min(30.0, hub.settings.eval_lease_seconds / 3))
    while True:
        await anyio.sleep(interval)
        try:
            if await run_in_threadpool(has_open_jobs, hub):
                await run_in_threadpool(lambda: send(hub, sweep(hub)))
        except Exception:
            log.exception("evaluation sweep failed")

"""What the hub (which enqueues) and ``hub worker`` (which consumes) must agree on about the job queue:
task and queue names (evaluations and webhook deliveries are two queues, so a worker for deliveries
alone needs no ML stack), the embedded broker's address in a data directory, and the Celery settings both
sides use. Plain strings and dicts: the hub sends tasks by name, so neither side imports the other."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

EVALUATE_TASK = "hub_worker.evaluate"
DELIVER_WEBHOOK_TASK = "hub_worker.deliver_webhook"
EVALUATIONS_QUEUE = "evaluations"
WEBHOOKS_QUEUE = "webhooks"
QUEUES = (EVALUATIONS_QUEUE, WEBHOOKS_QUEUE)
EMBEDDED_QUEUE_FILE = "queue.sqlite"
EMBEDDED_BUSY_SECONDS = 30.0
_EMBEDDED_PREFIX = "sqla+sqlite:///"


def broker_url(queue_url: str | None, data_dir: Path | str | None) -> str:
    """``queue_url`` as given (``redis://``, ``amqp://``), else the embedded queue: kombu's SQLAlchemy
    transport on ``queue.sqlite`` in ``data_dir``, which needs no server (one machine)."""
    if queue_url:
        return queue_url
    if data_dir is None:
        raise ValueError("no queue: set HUB_QUEUE_URL, or give the hub's data directory for the embedded queue")
    return f"{_EMBEDDED_PREFIX}{(Path(data_dir) / EMBEDDED_QUEUE_FILE).absolute()}"


def prepare_broker(broker: str, connection: Callable[..., Any]) -> None:
    """The embedded queue's file ready before any consumer or producer opens it through kombu: WAL mode,
    so the hub's inserts and every worker's polls never wait on one another's reads (a journal-mode file
    locks the whole database for each poll), and kombu's tables and one row per queue already there.
    kombu creates those lazily, guarded by a lock that is only in-process: two workers starting together
    raced to insert the same queue row and one died (``UNIQUE constraint failed: kombu_queue.name``).
    Here every process takes a file lock beside the queue first, so exactly one declares them.
    ``connection(url, transport_options=...)`` opens a kombu connection (the caller's Celery app's
    ``connection_for_write``: this package needs no queue library)."""
    if not broker.startswith(_EMBEDDED_PREFIX):
        return
    import fcntl

    path = Path(broker[len(_EMBEDDED_PREFIX) :])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with sqlite3.connect(path, timeout=EMBEDDED_BUSY_SECONDS) as db:
            db.execute("PRAGMA journal_mode=WAL")
        db.close()
        options = celery_conf(broker, 0)["broker_transport_options"]
        with connection(broker, transport_options=options) as conn:
            channel = conn.default_channel
            for name in QUEUES:
                channel.queue_declare(queue=name)


def celery_conf(broker: str, visibility_seconds: int) -> dict[str, Any]:
    """Late acknowledgement (a job whose worker dies is handed out again), one job prefetched at a time,
    JSON only (never pickle). The embedded transport hands its options to SQLAlchemy's ``create_engine``:
    it waits up to ``EMBEDDED_BUSY_SECONDS`` for another process's write instead of sqlite's 5 s (a busy
    host must not drop a poll or a send); Redis and SQS get the visibility timeout."""
    options: dict[str, Any] = (
        {"connect_args": {"timeout": EMBEDDED_BUSY_SECONDS}}
        if broker.startswith("sqla+")
        else {"visibility_timeout": visibility_seconds}
    )
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": EVALUATIONS_QUEUE,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "broker_transport_options": options,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "task_ignore_result": True,
    }

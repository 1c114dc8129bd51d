"""The Celery side of ``hub worker``: the tasks the hub sends by name (``hub_rules.jobs``: evaluations and
webhook deliveries, on two queues), bound to this worker's hub endpoint, token and name, and the consumer
loop. Messages carry an id only; what to do comes from the hub when the job or delivery is claimed, so a
forged message can make a worker do nothing but ask."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

from hub_rules.jobs import DELIVER_WEBHOOK_TASK, EVALUATE_TASK, QUEUES, celery_conf, prepare_broker


def make_celery(broker: str, *, endpoint: str, token: str | None, worker: str, visibility_seconds: int = 7200) -> Any:
    from celery import Celery

    app = Celery("adapter-hub-worker", broker=broker, set_as_current=True)
    app.conf.update(celery_conf(broker, visibility_seconds))
    prepare_broker(broker, app.connection_for_write)  # before the consumer: queues declared once, under a lock
    # stderr stays the terminal's: redirected into Celery's logger, every record of ours went back through
    # the CLI's handler as a library warning and was dropped, so a worker's log said nothing about its jobs
    app.conf.worker_redirect_stdouts = False

    @app.task(name=EVALUATE_TASK, acks_late=True, reject_on_worker_lost=True)
    def evaluate(job_id: str) -> str:
        from .evaluate import run_job

        return run_job(str(job_id), endpoint=endpoint, token=token, worker=worker).status

    @app.task(name=DELIVER_WEBHOOK_TASK, acks_late=True, reject_on_worker_lost=True)
    def deliver_webhook(delivery_id: str) -> str:
        from .deliver import run_delivery

        return run_delivery(str(delivery_id), endpoint=endpoint, token=token, worker=worker).status

    return app


def run_worker(
    broker: str,
    *,
    endpoint: str,
    token: str | None,
    name: str | None = None,
    concurrency: int = 1,
    visibility_seconds: int = 7200,
    loglevel: str = "INFO",
    queues: Sequence[str] = QUEUES,
) -> None:
    """Consume jobs of ``queues`` (evaluations, webhook deliveries) until stopped (SIGTERM finishes the
    running job first; kill -9 leaves it to the hub's lease, which queues it again for another worker)."""
    unknown = [q for q in queues if q not in QUEUES]
    if not queues or unknown:
        raise ValueError(f"queues must be among {', '.join(QUEUES)}")
    worker = name or f"worker-{socket.gethostname()}"
    app = make_celery(broker, endpoint=endpoint, token=token, worker=worker, visibility_seconds=visibility_seconds)
    argv = [
        "worker",
        "-Q",
        ",".join(queues),
        "-n",
        f"{worker}@%h",
        "--concurrency",
        str(concurrency),
        "--pool",
        "solo" if concurrency == 1 else "prefork",
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    app.worker_main(argv)

"""The hub's side of the job queue (evaluations and webhook deliveries): it only enqueues, by task name (Celery's ``send_task``), so the server
needs Celery and a broker client but never the ML stack that runs the jobs (``hub_worker``). A message
carries the job id alone; the worker claims the job from the hub, which is the one source of truth."""

from __future__ import annotations

import logging
import threading
from typing import Any

from hub_rules.jobs import (
    DELIVER_WEBHOOK_TASK,
    EVALUATE_TASK,
    EVALUATIONS_QUEUE,
    WEBHOOKS_QUEUE,
    broker_url,
    celery_conf,
    prepare_broker,
)

from ..settings import Settings

log = logging.getLogger("hub_server.queue")


class JobQueue:
    """One Celery producer per app, made on first use (a hub that never publishes never connects)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: Any = None
        self._lock = threading.Lock()
        self._warned = False

    @property
    def url(self) -> str:
        data = self.settings.data if self.settings.uses_data_dir() or not self.settings.queue_url else None
        return broker_url(self.settings.queue_url, data)

    def _celery(self) -> Any:
        with self._lock:
            if self._app is None:
                from celery import Celery

                app = Celery("adapter-hub", broker=self.url, set_as_current=False)
                app.conf.update(celery_conf(self.url, self.settings.queue_visibility_seconds))
                prepare_broker(self.url, app.connection_for_write)
                self._app = app
            return self._app

    def send_evaluation(self, job_id: str) -> bool:
        """Enqueue one evaluation job; False (logged) when the broker cannot be reached, so the publish
        that asked still succeeds and the hub's lease loop sends it later."""
        return self._send(EVALUATE_TASK, EVALUATIONS_QUEUE, job_id, task_id=job_id)

    def send_delivery(self, delivery_id: str) -> bool:
        """Enqueue one attempt of a webhook delivery (the same id may be sent again for each retry);
        False (logged) when the broker cannot be reached: the hub's delivery loop sends it later."""
        return self._send(DELIVER_WEBHOOK_TASK, WEBHOOKS_QUEUE, delivery_id)

    def _send(self, task: str, queue: str, item_id: str, task_id: str | None = None) -> bool:
        if not self.settings.queue_url and not self.settings.uses_data_dir():
            if not self._warned:  # a stateless host (database and blobs elsewhere) has no embedded queue
                log.warning("jobs stay queued in the database: set HUB_QUEUE_URL on hosts without a data directory")
                self._warned = True
            return False
        try:
            self._celery().send_task(
                task,
                args=[item_id],
                queue=queue,
                task_id=task_id,
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.2},
            )
            return True
        except Exception as exc:  # noqa: BLE001 - the broker's own errors differ per transport (redis, amqp, sqlalchemy)
            log.warning("could not enqueue %s %s: %s", task, item_id, exc)
            return False

    def close(self) -> None:
        with self._lock:
            if self._app is not None:
                self._app.close()
                self._app = None

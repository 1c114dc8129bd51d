"""Queue workers behind ``hub worker``: they run the hub's evaluation jobs on any machine (a GPU box) and
deliver its webhook events, talking to the hub only over HTTP with their own token (scope ``evaluate``),
exactly as a user would: pull the adapter, its base by pin and the eval set, score with
``adapters.evaluate``, post the result; or claim a delivery, POST it where the hub says, report how it went.

Imports ``adapters`` and ``hub_client``; nothing imports it (the ``hub worker`` command loads it on demand).
"""

from __future__ import annotations

from .app import make_celery, run_worker
from .deliver import DeliveryOutcome, run_delivery
from .evaluate import JobOutcome, evaluator_info, run_job

__all__ = ["DeliveryOutcome", "JobOutcome", "evaluator_info", "make_celery", "run_delivery", "run_job", "run_worker"]

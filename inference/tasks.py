"""Celery tasks of the inference app (queue ``inference``): thin, ids only, re-fetch,
call one service.

``acks_late`` + ``reject_on_worker_lost``: a batch whose worker died is delivered again;
processing is idempotent (only pending candidates are sent, ok ones never overwritten).
Database hiccups are retried here; endpoint errors are retried per document inside
the service (services/retry.py), because they concern one request, not the batch.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

INFERENCE_QUEUE = "inference"
TASK_OPTIONS = {
    "queue": INFERENCE_QUEUE,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(name="inference.run_start", **TASK_OPTIONS)
def run_start(run_id: int) -> None:
    from .services import processing

    processing.run_start(run_id=run_id)


@shared_task(name="inference.run_process_batch", **TASK_OPTIONS)
def run_process_batch(run_id: int, candidate_ids: list[int]) -> None:
    from .services import processing

    processing.candidates_process(run_id=run_id, candidate_ids=list(candidate_ids))

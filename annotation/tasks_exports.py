"""Celery task of gold export jobs (queue ``evaluation``): thin, ids only."""

from __future__ import annotations

import logging

from celery import shared_task

EXPORT_QUEUE = "evaluation"

logger = logging.getLogger(__name__)


@shared_task(name="annotation.export_run", queue=EXPORT_QUEUE, acks_late=True)
def export_run_task(job_id: int) -> None:
    """Write a queued export job. Not retried: a failure is stored on the job (status
    failed, error) for the user to read."""
    from .services.export_jobs import export_job_process

    export_job_process(job_id=job_id)


def export_job_enqueue(job_id: int) -> None:
    """Send the task; call from ``transaction.on_commit``. A broker that cannot be
    reached marks the job failed with what to do, instead of leaving it queued forever."""
    from .services.export_jobs import export_job_mark_failed

    try:
        export_run_task.apply_async(args=[job_id], queue=EXPORT_QUEUE)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for an unreachable broker
        logger.warning("export job %s: could not reach the task broker (%s)", job_id, type(exc).__name__)
        export_job_mark_failed(
            job_id=job_id,
            error="the task broker (CELERY_BROKER_URL) could not be reached; start Redis and a worker, "
            "or export with `manage.py export_gold`",
        )

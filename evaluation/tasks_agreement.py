"""Celery task of inter-annotator agreement reports (queue ``evaluation``): thin, ids only."""

from __future__ import annotations

import logging

from celery import shared_task

AGREEMENT_QUEUE = "evaluation"

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.agreement", queue=AGREEMENT_QUEUE, acks_late=True)
def agreement_compute_task(report_id: int) -> None:
    """Compute a queued agreement report. Not retried: a failure is stored on the report
    (status failed, error) for the user to read."""
    from evaluation.services.agreement import agreement_process

    agreement_process(report_id=report_id)


def agreement_enqueue(report_id: int) -> None:
    """Send the task; call from ``transaction.on_commit``. An unreachable broker marks the
    report failed with what to do, instead of leaving it queued forever."""
    from evaluation.services.agreement import agreement_mark_failed

    try:
        agreement_compute_task.apply_async(args=[report_id], queue=AGREEMENT_QUEUE)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for an unreachable broker
        logger.warning("agreement report %s: could not reach the task broker (%s)", report_id, type(exc).__name__)
        agreement_mark_failed(
            report_id=report_id,
            error="the task broker (CELERY_BROKER_URL) could not be reached; start Redis and a worker, "
            "or run the agreement command without the API",
        )

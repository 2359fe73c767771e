"""Celery tasks of the evaluation app (queue ``evaluation``; an evaluation with BERTScore
goes to queue ``gpu``): thin, ids only."""

from __future__ import annotations

import logging

from celery import shared_task

EVALUATION_QUEUE = "evaluation"

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.evaluate", queue=EVALUATION_QUEUE, acks_late=True)
def evaluation_evaluate(report_id: int) -> None:
    """Score a queued report (``evaluate --async``). Not retried: a failure is stored on
    the report (status failed, error) for the user to read."""
    from .services import evaluation_process

    evaluation_process(report_id=report_id)


def evaluation_enqueue(report_id: int, *, queue: str = EVALUATION_QUEUE) -> None:
    """Send the task; call from ``transaction.on_commit``. A broker that cannot be
    reached marks the report failed with what to do, instead of leaving it queued forever."""
    from .services.reports import evaluation_mark_failed

    try:
        evaluation_evaluate.apply_async(args=[report_id], queue=queue)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for an unreachable broker
        logger.warning("evaluation %s: could not reach the task broker (%s)", report_id, type(exc).__name__)
        evaluation_mark_failed(
            report_id=report_id,
            error="the task broker (CELERY_BROKER_URL) could not be reached; start Redis and a worker, "
            "or evaluate without --async",
        )


# Tasks in their own modules (Celery autodiscovery imports only ``tasks``).
from . import tasks_agreement, tasks_bertscore, tasks_comparison  # noqa: E402, F401

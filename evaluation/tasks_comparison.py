"""Celery task of the model comparison's significance (queue ``evaluation``): thin, ids only."""

from __future__ import annotations

import logging

from celery import shared_task

COMPARISON_QUEUE = "evaluation"

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.comparison_significance", queue=COMPARISON_QUEUE, acks_late=True)
def comparison_significance_task(cache_id: int) -> None:
    """Compute the paired tests of a queued comparison. Not retried: a failure is stored on
    the cache entry (status failed, error), and the next page request queues it again."""
    from evaluation.services.comparison_significance import comparison_significance_process

    comparison_significance_process(cache_id=cache_id)


def comparison_significance_enqueue(cache_id: int) -> None:
    """Send the task; call from ``transaction.on_commit``. An unreachable broker marks the
    entry failed with what to do, instead of leaving the page waiting forever."""
    from evaluation.services.comparison_significance import comparison_significance_mark_failed

    try:
        comparison_significance_task.apply_async(args=[cache_id], queue=COMPARISON_QUEUE)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for an unreachable broker
        logger.warning("comparison cache %s: could not reach the task broker (%s)", cache_id, type(exc).__name__)
        comparison_significance_mark_failed(
            cache_id=cache_id,
            error="the task broker (CELERY_BROKER_URL) could not be reached; start Redis and a worker "
            "(queue evaluation), then reload the page",
        )

"""Celery tasks of the annotation app: thin, ids only. Queue ``evaluation`` (CPU work
that reads the whole project, like scoring)."""

from __future__ import annotations

import logging

from celery import shared_task

CHECKS_QUEUE = "evaluation"

logger = logging.getLogger(__name__)


@shared_task(name="annotation.checks_run", queue=CHECKS_QUEUE, acks_late=True)
def checks_run_task(project_id: int, targets: list[str], run_id: int | None = None) -> dict:
    """Re-check a project (``POST /api/projects/<slug>/checks/run/``, the checks page)."""
    from .models import Project
    from .services.checks import checks_run

    project = Project.objects.get(pk=project_id)
    run = None
    if run_id is not None:
        from django.apps import apps

        run = apps.get_model("inference", "ModelRun").objects.get(pk=run_id)
    return checks_run(project=project, targets=targets, run=run)


def checks_enqueue(*, project_id: int, targets: list[str], run_id: int | None = None, task_id: str) -> None:
    """Send the task (nothing is written before it, so no ``on_commit`` is needed). A broker
    that cannot be reached is refused with what to do (503); stored findings stay as they were."""
    from elmtex_site.errors import ApplicationError

    try:
        checks_run_task.apply_async(args=[project_id, targets, run_id], queue=CHECKS_QUEUE, task_id=task_id)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types for an unreachable broker
        logger.warning("checks project=%s: could not reach the task broker (%s)", project_id, type(exc).__name__)
        raise ApplicationError(
            "the task broker (CELERY_BROKER_URL) could not be reached; start Redis and a worker, "
            "or run the checks with `manage.py run_checks <slug>`",
            status=503,
        ) from None


# Tasks in their own modules (Celery autodiscovery imports only ``tasks``).
from . import tasks_exports  # noqa: E402, F401

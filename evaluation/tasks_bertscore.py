"""Celery task of BERTScore (queue ``gpu``): thin, ids only.

The main path is ``evaluation.evaluate`` (evaluation/tasks.py), which an evaluation with
``bertscore`` in its metrics sends to the ``gpu`` queue; it calls
``evaluation.services.bertscore.bertscore_pairs_score``. This task only warms the
BERTScore cache for a run (every parsed candidate x text category, gold ``N/A``
included), so a later ``evaluate`` finds the pairs scored. A worker started with
``celery -A elmtex_site worker -Q gpu`` on a machine with CUDA takes it (device: setting
``ELMTEX_BERTSCORE_DEVICE``, default cuda when available).
"""

from __future__ import annotations

import logging

from celery import shared_task

BERTSCORE_QUEUE = "gpu"

logger = logging.getLogger(__name__)


@shared_task(name="evaluation.bertscore_warm", queue=BERTSCORE_QUEUE, acks_late=True)
def bertscore_warm(
    run_id: int,
    model: str | None = None,
    num_layers: int | None = None,
    rescale: bool | None = None,
    baseline_path: str | None = None,
) -> dict:
    """Score run ``run_id``'s pairs into the cache; returns the counts (no text)."""
    from evaluation.services.bertscore import bertscore_config_resolve, bertscore_run_warm
    from inference.models import ModelRun

    run = ModelRun.objects.select_related("project").get(pk=run_id)
    config = bertscore_config_resolve(model=model, num_layers=num_layers, rescale=rescale, baseline_path=baseline_path)
    result = bertscore_run_warm(run=run, config=config)
    return {"run": run_id, "new_pairs": result.new_pairs, "cached_pairs": result.cached_pairs, "device": result.device}


def bertscore_warm_enqueue(run_id: int, **config) -> None:
    """Send the warm task to the ``gpu`` queue; call from ``transaction.on_commit``."""
    bertscore_warm.apply_async(args=[run_id], kwargs=config, queue=BERTSCORE_QUEUE)

"""Writes of the evaluation app: scoring runs against gold and storing the reports."""

from .reports import (
    AVAILABLE_METRICS,
    DEFAULT_METRICS,
    evaluation_build,
    evaluation_compute,
    evaluation_process,
    evaluation_queue,
    evaluation_run,
    metrics_check,
)

__all__ = [
    "AVAILABLE_METRICS",
    "DEFAULT_METRICS",
    "evaluation_build",
    "evaluation_compute",
    "evaluation_process",
    "evaluation_queue",
    "evaluation_run",
    "metrics_check",
]

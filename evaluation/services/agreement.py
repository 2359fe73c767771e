"""Inter-annotator agreement reports (``agreement``, the API).

``agreement_run(asynchronous=False)`` computes in the calling process and stores a done
report; ``asynchronous=True`` stores a queued report and hands its id to a worker on the
``evaluation`` queue (``evaluation.tasks_agreement``), which calls ``agreement_process``
and reports progress on the report. Both end in ``agreement_compute``.

A report records the fingerprint of the submitted annotations it was computed from
(``annotations_version``, taken before reading them): a later submission or edit makes
it stale (``evaluation.selectors_agreement.agreement_staleness``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

from django.db import transaction

import elmtex_site
from annotation.models import Project, Split
from elmtex_site.errors import ApplicationError, Problem
from evaluation.models import AgreementReport, EvaluationStatus
from evaluation.selectors_agreement import agreement_selection_counts, annotations_version

from .agreement_scoring import agreement_compute, no_annotations_error

__all__ = ["agreement_compute", "agreement_config", "agreement_process", "agreement_run"]

logger = logging.getLogger(__name__)

PACKAGES = ("numpy", "scipy", "rouge-score", "nltk", "rapidfuzz")
# A running job writes its progress at most this often (seconds).
PROGRESS_INTERVAL = 1.0


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - requirements
        return "unknown"


def agreement_config(*, language: str | None, split: str | None) -> dict:
    """What a report records about how it was computed."""
    return {
        "language": language,
        "split": split,
        "annotations": "annotations whose assignment is submitted; one annotator per assignment",
        "judgements": {
            "level": "nominal",
            "missing": "a field an annotator left unjudged is missing (Krippendorff's alpha allows it)",
            "krippendorff_alpha": "on the documents judged by two or more annotators; coincidence matrix "
            "accumulated per block of units (equal to the krippendorff package, linear memory)",
            "fleiss_kappa": "on the documents judged by the most common number of annotators (ties: the larger "
            "number); equal to statsmodels fleiss_kappa",
            "cohen_kappa_mean": "unweighted mean over annotator pairs of Cohen's kappa on the documents both judged "
            "(equal to sklearn cohen_kappa_score); pairs where it is undefined are left out",
            "undefined": "null where a statistic is undefined (one label only, fewer than two annotators)",
        },
        "text": {
            "between_annotators": "per document, mean over annotator pairs; then mean over documents. A pair where "
            "both wrote N/A is not scored, a pair where one wrote N/A scores 0",
            "rougeL": "ROUGE-L F (rouge-score arithmetic; tokenizer per document language)",
            "entity_f1": "F1 of the default entity matcher (symmetric), entity-bearing categories only",
            "annotator_vs_gold": "each annotator's value as the prediction against gold, gold N/A skipped "
            "(as evaluate scores a run)",
        },
        "overall": "judgement statistics pooled over categories (unit = document x category); text figures are "
        "macro means over categories",
        "annotations_version": "sha256 over (annotation id, version) of the submitted annotations of the selection",
        "packages": {name: _package_version(name) for name in PACKAGES},
        "platform_version": elmtex_site.__version__,
    }


def _selection(*, language: str | None, split: str | None) -> tuple[str | None, str | None]:
    language = (language or "").strip() or None
    split = (split or "").strip() or None
    if split is not None and split not in Split.values:
        message = f"unknown split {split!r}; choose from {', '.join(Split.values)}"
        raise ApplicationError(f"split: {message}", problems=[Problem(message, field="split")])
    return language, split


def _require_annotations(*, project: Project, language: str | None, split: str | None) -> int:
    """Documents with submitted annotations in the selection; refuses an empty one."""
    counts = agreement_selection_counts(project=project, language=language, split=split)
    if not counts["annotations"]:
        raise no_annotations_error(project=project, language=language, split=split)
    return counts["documents"]


def agreement_run(
    *,
    project: Project,
    user=None,
    language: str | None = None,
    split: str | None = None,
    asynchronous: bool = False,
    progress: Callable[[int, int], object] | None = None,
) -> AgreementReport:
    """Compute agreement (here, or queued for a worker) and store the report.
    ``progress(done, total)``: documents read, for an in-process run."""
    language, split = _selection(language=language, split=split)
    documents = _require_annotations(project=project, language=language, split=split)
    report = AgreementReport(
        project=project,
        config=agreement_config(language=language, split=split),
        progress_total=documents,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if asynchronous:
        from evaluation.tasks_agreement import agreement_enqueue

        with transaction.atomic():
            report.status = EvaluationStatus.QUEUED
            report.save()
            transaction.on_commit(lambda: agreement_enqueue(report.pk))
        report.refresh_from_db(fields=["status", "error"])
        return report
    report.annotations_version = annotations_version(project=project, language=language, split=split)
    report.results = agreement_compute(project=project, language=language, split=split, progress=progress)
    report.results["annotations_version"] = report.annotations_version
    report.progress_done = report.progress_total = report.results["selection"]["documents"]
    report.status = EvaluationStatus.DONE
    report.save()
    logger.info("agreement report %s of project %s stored", report.pk, project.pk)
    return report


def agreement_process(*, report_id: int) -> None:
    """The worker's side of ``agreement_run(asynchronous=True)``: compute a queued report once."""
    claimed = AgreementReport.objects.filter(pk=report_id, status=EvaluationStatus.QUEUED).update(
        status=EvaluationStatus.RUNNING
    )
    if not claimed:
        logger.info("agreement report %s is not queued (done, running elsewhere or deleted); skipped", report_id)
        return
    report = AgreementReport.objects.select_related("project").get(pk=report_id)
    language, split = report.config.get("language"), report.config.get("split")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL or done == total:
            last[0] = now
            AgreementReport.objects.filter(pk=report_id).update(progress_done=done, progress_total=total)

    try:
        version = annotations_version(project=report.project, language=language, split=split)
        results = agreement_compute(project=report.project, language=language, split=split, progress=progress)
        results["annotations_version"] = version
        documents = results["selection"]["documents"]
        AgreementReport.objects.filter(pk=report_id).update(
            results=results,
            annotations_version=version,
            status=EvaluationStatus.DONE,
            error="",
            progress_done=documents,
            progress_total=documents,
        )
        logger.info("agreement report %s done", report_id)
    except Exception as exc:
        logger.exception("agreement report %s failed", report_id)
        message = exc.message if isinstance(exc, ApplicationError) else f"unexpected failure ({type(exc).__name__})"
        agreement_mark_failed(report_id=report_id, error=message)
        raise


def agreement_mark_failed(*, report_id: int, error: str) -> None:
    AgreementReport.objects.filter(pk=report_id).update(status=EvaluationStatus.FAILED, error=error)

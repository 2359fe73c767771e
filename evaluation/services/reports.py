"""Evaluating a run against gold and storing the report (``evaluate``, the API).

``evaluation_run`` scores in the calling process; ``evaluation_queue`` stores a queued
report and hands its id to a worker on the ``evaluation`` queue, which calls
``evaluation_process``. Both end in ``evaluation_compute``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Required, TypedDict, Unpack

from django.db import transaction

import elmtex_site
from annotation.models import Split
from elmtex_site.errors import ApplicationError, Problem
from evaluation.metrics.entities import DEFAULT_FUZZY_THRESHOLD, MATCHERS, matcher_get
from evaluation.models import EvaluationReport, EvaluationStatus
from evaluation.selectors import evaluation_candidate_count, evaluation_categories, evaluation_rows
from inference.models import ModelRun

logger = logging.getLogger(__name__)

AVAILABLE_METRICS = ("rouge", "entity")
DEFAULT_METRICS = ("rouge", "entity")
NOT_YET = {"bertscore": "bertscore is not available in this version; evaluate with rouge,entity"}
GERMAN_TOKENIZER_NOTE = (
    "documents in languages other than English were scored with rouge-score's English tokenizer and stemmer; "
    "a German tokenizer is planned (issue 5)"
)


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def metrics_check(metrics: Sequence[str] | str | None) -> list[str]:
    """The metric families asked for, in canonical order; refuses unknown ones and those
    this version cannot compute."""
    if metrics is None:
        return list(DEFAULT_METRICS)
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    asked = [m.strip().lower() for m in metrics if m.strip()]
    if not asked:
        raise _refuse(f"name at least one metric ({', '.join(AVAILABLE_METRICS)})", "metrics")
    for metric in asked:
        if metric in NOT_YET:
            raise _refuse(NOT_YET[metric], "metrics")
        if metric not in AVAILABLE_METRICS:
            raise _refuse(f"unknown metric {metric!r}; choose from {', '.join(AVAILABLE_METRICS)}", "metrics")
    return [m for m in AVAILABLE_METRICS if m in asked]


def config_build(
    *, metrics: list[str], language: str | None, split: str | None, fuzzy_threshold: float, matcher: str
) -> dict:
    """What the report records about how it was computed (everything needed to redo it)."""
    # Metric modules pull in NLTK, numpy and scipy: imported when used, so web processes start fast.
    from evaluation.metrics.rouge import ROUGE_TYPES, TOKENIZER_DESCRIPTION, rouge_score_version
    from evaluation.metrics.stats import bootstrap_settings

    entity = matcher_get(matcher, threshold=fuzzy_threshold).config() if "entity" in metrics else None
    return {
        "metrics": metrics,
        "na_policy": "skip gold N/A: a pair whose gold value is N/A (or blank) is not scored",
        "unparsed_policy": "left out: documents whose candidate did not parse (status other than ok) are not scored",
        "mean": "over documents, per category; overall = macro mean over categories",
        "rouge": {
            "types": list(ROUGE_TYPES),
            "use_stemmer": True,
            "package": f"rouge-score {rouge_score_version()}",
            "tokenizer": TOKENIZER_DESCRIPTION,
        }
        if "rouge" in metrics
        else None,
        "entity": entity,
        "bertscore": None,
        "language": language,
        "split": split,
        "bootstrap": bootstrap_settings(),
        "compare": {
            "documents": "documents scored in both runs, per category",
            "delta": "mean of this run minus mean of the compared run",
            "p_bootstrap": "two-sided paired bootstrap over per-document differences",
            "p_wilcoxon": "scipy.stats.wilcoxon, two-sided, zero differences dropped; null when all are zero",
        },
        "gold_version": "sha256 over (document id, gold values) of the selected documents with gold",
        "platform_version": elmtex_site.__version__,
    }


def evaluation_build(
    *,
    run: ModelRun,
    metrics: Sequence[str] | str | None = DEFAULT_METRICS,
    language: str | None = None,
    split: str | None = None,
    compare: ModelRun | None = None,
    user=None,
    fuzzy_threshold: float = DEFAULT_FUZZY_THRESHOLD,
    matcher: str = "default",
    status: str = EvaluationStatus.QUEUED,
) -> EvaluationReport:
    """Check the request; an unsaved report holding it (nothing is scored yet)."""
    metrics = metrics_check(metrics)
    language = (language or "").strip() or None
    split = (split or "").strip() or None
    if split is not None and split not in Split.values:
        raise _refuse(f"unknown split {split!r}; choose from {', '.join(Split.values)}", "split")
    if matcher not in MATCHERS:
        raise _refuse(f"unknown entity matcher {matcher!r}; choose from {', '.join(sorted(MATCHERS))}", "matcher")
    if not 0 <= fuzzy_threshold <= 100:
        raise _refuse(f"must lie between 0 and 100, got {fuzzy_threshold:g}", "fuzzy_threshold")
    if compare is not None:
        if compare.project_id != run.project_id:
            raise _refuse(f"run {compare.pk} belongs to another project; compare runs of one project", "compare")
        if compare.pk == run.pk:
            raise _refuse("a run compared with itself tells nothing; name another run", "compare")
    config = config_build(
        metrics=metrics, language=language, split=split, fuzzy_threshold=float(fuzzy_threshold), matcher=matcher
    )
    return EvaluationReport(
        project=run.project,
        run=run,
        compare_run=compare,
        metrics=metrics,
        config=config,
        status=status,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def evaluation_compute(*, report: EvaluationReport, on_row: Callable[[], object] | None = None) -> EvaluationReport:
    """Score the report's run (and compare run) against gold into the report's fields
    (results, config, gold_version, per_document, status done). Does not save: reads
    only, so no write lock is held while scoring (SQLite would block every writer)."""
    from evaluation.metrics.rouge import RougeCalculator

    from . import scoring

    config = dict(report.config)
    metrics = list(report.metrics)
    language, split = config.get("language"), config.get("split")
    categories = evaluation_categories(project=report.project)
    rouge = RougeCalculator() if "rouge" in metrics else None
    matcher = None
    if "entity" in metrics:
        entity_config = config.get("entity") or {}
        matcher = matcher_get(
            entity_config.get("matcher", "default"),
            threshold=entity_config.get("fuzzy_threshold", DEFAULT_FUZZY_THRESHOLD),
        )

    def score(run: ModelRun) -> scoring.RunScores:
        rows = evaluation_rows(run=run, language=language, split=split)
        return scoring.run_score(rows, categories=categories, rouge=rouge, matcher=matcher, on_row=on_row)

    scores = score(report.run)
    blocks = {c.key: scoring.category_summary(scores.categories[c.key], entity=c.entity) for c in categories}
    compare = None
    if report.compare_run_id:
        other = score(report.compare_run)
        compare = {
            "run": {"id": report.compare_run.pk, "name": report.compare_run.name},
            "categories": scoring.compare_summary(scores, other),
        }
    config["documents"] = {
        "candidates": evaluation_candidate_count(run=report.run, language=language, split=split),
        "with_gold": scores.rows,
        "scored": scores.scored,
        "left_out": dict(sorted(scores.left_out.items())),
    }
    config["languages_scored"] = sorted(scores.languages)
    if rouge is not None and any(lang != "en" for lang in scores.languages):
        config["rouge"] = {**config["rouge"], "note": GERMAN_TOKENIZER_NOTE}
    gold_version = scoring.gold_version(scores)
    report.results = {
        "run": {"id": report.run.pk, "name": report.run.name},
        "gold_version": gold_version,
        "config": config,
        "categories": blocks,
        "overall": scoring.overall_summary(blocks),
        "compare": compare,
    }
    report.config = config
    report.gold_version = gold_version
    report.per_document = scoring.per_document(scores)
    report.status = EvaluationStatus.DONE
    report.error = ""
    return report


COMPUTED_FIELDS = ["results", "config", "gold_version", "per_document", "status", "error"]


class EvaluationRequest(TypedDict, total=False):
    """What ``evaluation_run`` and ``evaluation_queue`` accept; ``evaluation_build`` checks it
    and holds the defaults."""

    run: Required[ModelRun]
    metrics: Sequence[str] | str | None
    language: str | None
    split: str | None
    compare: ModelRun | None
    user: object
    fuzzy_threshold: float
    matcher: str


def evaluation_run(
    *, on_row: Callable[[], object] | None = None, **request: Unpack[EvaluationRequest]
) -> EvaluationReport:
    """Evaluate in this process and store the report (one write at the end; a failure
    stores nothing)."""
    report = evaluation_build(**request, status=EvaluationStatus.RUNNING)
    evaluation_compute(report=report, on_row=on_row)
    report.save()
    logger.info("evaluation %s of run %s stored", report.pk, report.run_id)
    return report


def evaluation_queue(**request: Unpack[EvaluationRequest]) -> EvaluationReport:
    """Store a queued report and enqueue it for a worker (``evaluation`` queue) once the
    transaction commits. A broker that cannot be reached marks the report failed."""
    from evaluation.tasks import evaluation_enqueue

    with transaction.atomic():
        report = evaluation_build(**request, status=EvaluationStatus.QUEUED)
        report.save()
        transaction.on_commit(lambda: evaluation_enqueue(report.pk))
    report.refresh_from_db(fields=["status", "error"])
    return report


def evaluation_process(*, report_id: int) -> None:
    """The worker's side of ``evaluation_queue``: score a queued report once."""
    claimed = EvaluationReport.objects.filter(pk=report_id, status=EvaluationStatus.QUEUED).update(
        status=EvaluationStatus.RUNNING
    )
    if not claimed:
        logger.info("evaluation %s is not queued (done, running elsewhere or deleted); skipped", report_id)
        return
    report = EvaluationReport.objects.select_related("project", "run", "compare_run").get(pk=report_id)
    try:
        evaluation_compute(report=report)
        report.save(update_fields=COMPUTED_FIELDS)
    except Exception as exc:
        logger.exception("evaluation %s failed", report_id)
        message = exc.message if isinstance(exc, ApplicationError) else f"unexpected failure ({type(exc).__name__})"
        EvaluationReport.objects.filter(pk=report_id).update(status=EvaluationStatus.FAILED, error=message)
        raise


def evaluation_mark_failed(*, report_id: int, error: str) -> None:
    EvaluationReport.objects.filter(pk=report_id).update(status=EvaluationStatus.FAILED, error=error)

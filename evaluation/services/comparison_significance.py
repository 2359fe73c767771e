"""Paired significance of a model comparison, cached in ``ComparisonCache``.

Each run's per-document scores are tested against the reference run's on the documents
both scored (``evaluation.metrics.stats.paired_compare``: paired bootstrap and Wilcoxon).
Per-document scores are tens of MB of JSON for 60,000 documents, so they are never read on
a page request for a large comparison: small ones (``INLINE_MAX_ENTRIES``) are computed in
the request, larger ones by the Celery task ``evaluation.comparison_significance`` (queue
``evaluation``), one report at a time besides the reference, with only the tested metrics
pulled out of the jsonb by PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction

from elmtex_site.errors import ApplicationError
from evaluation.models import ComparisonCache, EvaluationReport, EvaluationStatus

if TYPE_CHECKING:
    from .comparison import Comparison

logger = logging.getLogger(__name__)

# Metrics with per-document scores, CIs and a paired test (scoring.COMPARE_KEYS).
TESTED_METRICS = ("rouge1", "rouge2", "rougeL", "entity_f1", "bertscore_f1")
# Comparisons with at most this many per-document entries (sum of n and n_bertscore over
# the reports) get their significance computed in the request.
INLINE_MAX_ENTRIES = 20_000
MARKERS = (("**", 0.01), ("*", 0.05))  # on the paired bootstrap p-value, no correction
PROGRESS_INTERVAL = 1.0


def significance_method() -> dict:
    """How the tests are made (part of the cache key). numpy and scipy load here, not when
    the web process imports this module (STYLE.md rule 4)."""
    from evaluation.metrics.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED

    return {
        "test": "paired bootstrap over per-document differences, two-sided (evaluation.metrics.stats.paired_compare)",
        "resamples": BOOTSTRAP_RESAMPLES,
        "seed": BOOTSTRAP_SEED,
        "markers_on": "p_bootstrap",
        "markers": {"**": 0.01, "*": 0.05},
        "correction": "none",
        "documents": "per category, the documents both reports scored (BERTScore: pairs scored in both)",
        "version": 1,
    }


@dataclass
class Significance:
    """Paired tests of each run against the reference, or where computing them stands."""

    status: str  # "done", "queued", "running", "failed", "none" (fewer than two runs)
    results: dict = field(default_factory=dict)  # {report id: {category: {metric: paired_compare}}}
    progress_done: int = 0
    progress_total: int = 0
    error: str = ""
    key: str = ""

    @property
    def progress(self) -> float | None:
        if self.status == "done":
            return 1.0
        return self.progress_done / self.progress_total if self.progress_total else 0.0 if self.key else None

    def as_json(self) -> dict:
        return {"status": self.status, "progress": self.progress, "error": self.error or None}


def significance_key(*, report_ids: list[int], reference_report_id: int) -> str:
    text = json.dumps(
        {"reports": sorted(report_ids), "reference": reference_report_id, "method": significance_method()},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _entries(comparison: Comparison) -> int:
    """Per-document entries behind the comparison (what the tests read)."""
    total = 0
    for e in comparison.runs:
        total += sum((c.get("n") or 0) + (c.get("n_bertscore") or 0) for c in e.categories.values())
    return total


def _tests_planned(reference: dict, others: list[dict]) -> int:
    """Paired tests to run: categories x metrics where both results have a value."""
    count = 0
    for results in others:
        for key, block in (results.get("categories") or {}).items():
            ref = (reference.get("categories") or {}).get(key) or {}
            count += sum(1 for m in TESTED_METRICS if block.get(m) is not None and ref.get(m) is not None)
    return count


def significance_get(*, comparison: Comparison, inline_max: int | None = None) -> Significance:
    """The cached paired tests of the comparison's reports; computed now when small, else
    queued for a worker (a failed computation is tried again on the next request)."""
    if len(comparison.runs) < 2:
        return Significance(status="none")
    key = comparison.key
    cache = ComparisonCache.objects.filter(key=key).first()
    if cache is not None and cache.status in (EvaluationStatus.DONE, EvaluationStatus.QUEUED, EvaluationStatus.RUNNING):
        return _significance_of(cache)
    if inline_max is None:
        inline_max = getattr(settings, "ELMTEX_COMPARE_INLINE_MAX_ENTRIES", INLINE_MAX_ENTRIES)
    report_ids = [e.report.pk for e in comparison.runs]
    reference_id = comparison.reference.report.pk
    others = [e.report.results or {} for e in comparison.runs if e is not comparison.reference]
    total = _tests_planned(comparison.reference.report.results or {}, others)
    fields = {
        "project": comparison.project,
        "report_ids": sorted(report_ids),
        "reference_report_id": reference_id,
        "progress_done": 0,
        "progress_total": total,
        "error": "",
    }
    if _entries(comparison) <= inline_max:
        results = significance_compute(report_ids=report_ids, reference_report_id=reference_id)
        cache, _ = ComparisonCache.objects.update_or_create(
            key=key, defaults={**fields, "results": results, "status": EvaluationStatus.DONE, "progress_done": total}
        )
        return _significance_of(cache)
    with transaction.atomic():
        cache, _ = ComparisonCache.objects.update_or_create(
            key=key, defaults={**fields, "results": {}, "status": EvaluationStatus.QUEUED}
        )
        transaction.on_commit(lambda: _enqueue(cache.pk))
    cache.refresh_from_db()
    return _significance_of(cache)


def _enqueue(cache_id: int) -> None:
    from evaluation.tasks_comparison import comparison_significance_enqueue

    comparison_significance_enqueue(cache_id)


def _significance_of(cache: ComparisonCache) -> Significance:
    return Significance(
        status=cache.status,
        results=cache.results if cache.status == EvaluationStatus.DONE else {},
        progress_done=cache.progress_done,
        progress_total=cache.progress_total,
        error=cache.error,
        key=cache.key,
    )


def _per_document_columns(report_id: int) -> dict[str, tuple]:
    """``{category: (document ids, {metric: values})}`` of one report's per-document
    scores, sorted by document id, NaN where a metric is missing. On PostgreSQL only the
    tested metrics are pulled out of the jsonb (rows streamed by a server-side cursor);
    elsewhere the JSON is read whole."""
    import numpy as np

    raw: dict[str, tuple[array, list[array]]] = {}

    def add(doc_id, category, values) -> None:
        ids, columns = raw.get(category) or raw.setdefault(category, (array("q"), [array("d") for _ in TESTED_METRICS]))
        ids.append(int(doc_id))
        for column, value in zip(columns, values, strict=True):
            column.append(math.nan if value is None else float(value))

    if connection.vendor == "postgresql":
        picks = ", ".join(f"(c.value->>'{m}')::float8" for m in TESTED_METRICS)
        sql = (
            f"SELECT d.key, c.key, {picks} FROM {EvaluationReport._meta.db_table} r "
            "CROSS JOIN LATERAL jsonb_each(r.per_document) d CROSS JOIN LATERAL jsonb_each(d.value) c "
            "WHERE r.id = %s"
        )
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(sql, [report_id])
            while rows := cursor.fetchmany(20_000):
                for doc_id, category, *values in rows:
                    add(doc_id, category, values)
    else:
        per_document = EvaluationReport.objects.values_list("per_document", flat=True).get(pk=report_id) or {}
        for doc_id, blocks in per_document.items():
            for category, cell in blocks.items():
                add(doc_id, category, [cell.get(m) for m in TESTED_METRICS])
        del per_document
    result = {}
    for category, (ids, columns) in raw.items():
        order = np.argsort(np.frombuffer(ids, dtype=np.int64), kind="stable")
        doc_ids = np.frombuffer(ids, dtype=np.int64)[order]
        result[category] = (
            doc_ids,
            {m: np.frombuffer(col, dtype=float)[order] for m, col in zip(TESTED_METRICS, columns, strict=True)},
        )
    return result


def paired_scores(run_cols: tuple, reference_cols: tuple, metric: str) -> tuple[list[float], list[float]]:
    """The run's and the reference's values of one category and metric on the documents
    both scored, in document id order."""
    import numpy as np

    ids_a, values_a = run_cols
    ids_b, values_b = reference_cols
    a, b = values_a[metric], values_b[metric]
    keep_a, keep_b = ~np.isnan(a), ~np.isnan(b)
    _, ia, ib = np.intersect1d(ids_a[keep_a], ids_b[keep_b], assume_unique=True, return_indices=True)
    return a[keep_a][ia].tolist(), b[keep_b][ib].tolist()


def significance_compute(
    *, report_ids: list[int], reference_report_id: int, progress: Callable[[int, int], object] | None = None
) -> dict:
    """``{report id: {category: {metric: paired_compare(run, reference)}}}`` for every
    report but the reference (delta = run minus reference). One report's scores in memory
    at a time besides the reference's."""
    reference = _per_document_columns(reference_report_id)
    others = [pk for pk in dict.fromkeys(report_ids) if pk != reference_report_id]
    planned = {}
    for pk, results in EvaluationReport.objects.filter(pk__in=[*others, reference_report_id]).values_list(
        "pk", "results"
    ):
        planned[pk] = results or {}
    total = _tests_planned(planned.get(reference_report_id, {}), [planned.get(pk, {}) for pk in others])
    from evaluation.metrics.stats import paired_compare

    done = 0
    out: dict = {}
    for pk in others:
        columns = _per_document_columns(pk)
        tests: dict = {}
        for category, run_cols in columns.items():
            if category not in reference:
                continue
            per_metric = {}
            for metric in TESTED_METRICS:
                a, b = paired_scores(run_cols, reference[category], metric)
                if not a:
                    continue
                per_metric[metric] = paired_compare(a, b)
                done += 1
                if progress is not None:
                    progress(done, max(total, done))
            tests[category] = per_metric
        out[str(pk)] = tests
        del columns
    return out


def comparison_significance_process(*, cache_id: int) -> None:
    """The worker's side: compute a queued cache entry once, writing progress."""
    claimed = ComparisonCache.objects.filter(pk=cache_id, status=EvaluationStatus.QUEUED).update(
        status=EvaluationStatus.RUNNING
    )
    if not claimed:
        logger.info("comparison cache %s is not queued (done, running elsewhere or deleted); skipped", cache_id)
        return
    cache = ComparisonCache.objects.get(pk=cache_id)
    last = {"at": 0.0}

    def write(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last["at"] < PROGRESS_INTERVAL and done < total:
            return
        last["at"] = now
        ComparisonCache.objects.filter(pk=cache_id).update(progress_done=done, progress_total=total)

    try:
        results = significance_compute(
            report_ids=list(cache.report_ids), reference_report_id=cache.reference_report_id, progress=write
        )
    except Exception as exc:
        logger.exception("comparison cache %s failed", cache_id)
        message = exc.message if isinstance(exc, ApplicationError) else f"unexpected failure ({type(exc).__name__})"
        comparison_significance_mark_failed(cache_id=cache_id, error=message)
        raise
    total = ComparisonCache.objects.values_list("progress_total", flat=True).get(pk=cache_id)
    ComparisonCache.objects.filter(pk=cache_id).update(
        results=results, status=EvaluationStatus.DONE, error="", progress_done=total
    )


def comparison_significance_mark_failed(*, cache_id: int, error: str) -> None:
    ComparisonCache.objects.filter(pk=cache_id).update(status=EvaluationStatus.FAILED, error=error)

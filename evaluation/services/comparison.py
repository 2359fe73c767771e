"""Model comparison: several runs' stored evaluations side by side (issue 6, "Reports").

``comparison_build`` picks each run's latest finished evaluation of the selection
(language, split), the runs' candidate statistics (one aggregate query) and the paired
significance against the reference run; ``comparison_report`` turns it into a
:class:`~evaluation.report_tables.Report` (page, API and every download).

Never loads ``EvaluationReport.per_document`` (tens of MB for 60,000 documents) on a page
request: significance is computed once per set of reports into ``ComparisonCache``, in the
request for small comparisons (setting ``ELMTEX_COMPARE_INLINE_MAX_ENTRIES``, default
20,000 per-document entries), else by the Celery task
``evaluation.comparison_significance`` (queue ``evaluation``), one report at a time, with
only the tested metrics pulled out of the jsonb by PostgreSQL.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotation.models import Document, Gold, Project
from elmtex_site.errors import ApplicationError, Problem
from evaluation.models import EvaluationReport, EvaluationStatus
from evaluation.selectors import EvalCategory, evaluation_categories, report_stale
from inference.models import Candidate, CandidateStatus, ModelRun

from .comparison_evaluations import (
    EvaluationsMissing,
    MissingRun,
    evaluations_missing,
    latest_reports,
    selection_check,
)
from .comparison_significance import Significance, significance_get, significance_key

logger = logging.getLogger(__name__)

# (results key, label); the table's metric columns in this order.
METRICS = (
    ("rouge1", "ROUGE-1"),
    ("rouge2", "ROUGE-2"),
    ("rougeL", "ROUGE-L"),
    ("bertscore_f1", "BERTScore F1"),
    ("entity_p", "Entity P"),
    ("entity_r", "Entity R"),
    ("entity_f1", "Entity F1"),
)
METRIC_LABELS = dict(METRICS)
CHART_METRICS = ("rouge1", "rouge2", "rougeL", "bertscore_f1", "entity_f1")
DEFAULT_CHART_METRIC = "rouge1"
# The count a category mean is taken over: micro averages weight category means by it.
WEIGHTS = {"rouge": "n", "entity": "n_entity", "bertscore": "n_bertscore"}
MAX_RUNS = 12
NOT_PARSED = (CandidateStatus.PARSE_ERROR, CandidateStatus.TOO_LONG, CandidateStatus.FAILED)


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)])


def _weight_key(metric: str) -> str:
    return WEIGHTS[
        "entity" if metric.startswith("entity") else "bertscore" if metric.startswith("bertscore") else "rouge"
    ]


@dataclass
class RunStats:
    """A run's candidates in the selection: processed, not parsed, mean latency and tokens."""

    candidates: int = 0  # processed (not pending)
    not_parsed: int = 0  # parse_error, too_long, failed
    latency_ms: float | None = None
    prompt_tokens: float | None = None
    generated_tokens: float | None = None

    @property
    def not_parsed_rate(self) -> float | None:
        return self.not_parsed / self.candidates if self.candidates else None


@dataclass
class ComparedRun:
    run: ModelRun
    report: EvaluationReport  # per_document deferred
    stale: bool | None
    stats: RunStats
    categories: dict[str, dict]  # results["categories"]
    macro: dict  # results["overall"]
    micro: dict  # n-weighted mean of category means, per metric

    @property
    def label(self) -> str:
        return self.run.name


@dataclass
class Comparison:
    project: Project
    runs: list[ComparedRun]
    reference: ComparedRun
    language: str | None
    split: str | None
    categories: list[EvalCategory]
    significance: Significance

    def test(self, entry: ComparedRun, category: str, metric: str) -> dict | None:
        if self.significance.status != "done" or entry is self.reference:
            return None
        return ((self.significance.results.get(str(entry.report.pk)) or {}).get(category) or {}).get(metric)

    @property
    def key(self) -> str:
        return significance_key(
            report_ids=[e.report.pk for e in self.runs], reference_report_id=self.reference.report.pk
        )


# --- selection ---------------------------------------------------------------------------


MAX_ID = 2**63 - 1


def run_id_of(ref: str) -> int | None:
    """The run id a reference names (ASCII digits, within a database integer), else None
    (a run name; ``"²"`` is not an id, and an id past 64 bits names no run)."""
    if ref.isascii() and ref.isdigit():
        value = int(ref)
        return value if value <= MAX_ID else -1
    return None


def runs_resolve(*, project: Project, text: str) -> list[ModelRun]:
    """Runs named by ``"3,7,my-run"`` (ids or names, CLI.md "RUN"), in that order, each once.
    An unknown one is refused by name."""
    refs = []
    for part in (text or "").split(","):
        part = part.strip()
        if part and part not in refs:
            refs.append(part)
    if not refs:
        return []
    ids = [i for i in map(run_id_of, refs) if i is not None and i >= 0]
    names = [r for r in refs if run_id_of(r) is None]
    found = (
        ModelRun.objects.filter(project=project).filter(Q(pk__in=ids) | Q(name__in=names)).select_related("endpoint")
    )
    by_id = {r.pk: r for r in found}
    by_name = {r.name: r for r in found}
    runs, unknown = [], []
    for ref in refs:
        run_id = run_id_of(ref)
        run = by_id.get(run_id) if run_id is not None else by_name.get(ref)
        if run is None:
            unknown.append(ref)
        elif run not in runs:
            runs.append(run)
    if unknown:
        listed = ", ".join(repr(u) for u in unknown)
        raise _refuse(f"no run {listed} in project {project.slug!r}; give run ids or names of this project", "runs")
    if len(runs) > MAX_RUNS:
        raise _refuse(f"at most {MAX_RUNS} runs can be compared at once, got {len(runs)}", "runs")
    return runs


def _run_aggregates(runs: list[ModelRun], language: str | None, split: str | None) -> dict[int, dict]:
    """One GROUP BY run query over the runs' candidates in the selection: processed and
    unparsed counts, mean latency and tokens, and the gold state of the selection (what
    ``selectors.gold_state`` records for a report of one run; candidates are unique per run
    and document, so each gold counts once per run).

    Plain SQL: gold is joined on the candidate's document id directly and the document
    table only when the selection needs it; on PostgreSQL the ``candidate_run_stats``
    covering index answers the rest (the page's main cost at 5 x 60,000 candidates)."""
    if not runs:
        return {}
    candidate, gold, document = (m._meta.db_table for m in (Candidate, Gold, Document))
    params: list = [CandidateStatus.PENDING, *NOT_PARSED]
    where = [f"c.run_id IN ({', '.join(['%s'] * len(runs))})"]
    params += [r.pk for r in runs]
    join = ""
    if language or split:
        join = f"JOIN {document} d ON d.id = c.document_id"
        if language:
            where.append("d.language = %s")
            params.append(language)
        if split:
            where.append("d.split = %s")
            params.append(split)
    not_parsed = ", ".join(["%s"] * len(NOT_PARSED))
    sql = f"""
        SELECT c.run_id,
               SUM(CASE WHEN c.status <> %s THEN 1 ELSE 0 END),
               SUM(CASE WHEN c.status IN ({not_parsed}) THEN 1 ELSE 0 END),
               AVG(c.latency_ms), AVG(c.prompt_tokens), AVG(c.generated_tokens),
               COUNT(g.document_id), SUM(g.version), MAX(g.updated_at)
        FROM {candidate} c
        {join}
        LEFT JOIN {gold} g ON g.document_id = c.document_id
        WHERE {" AND ".join(where)}
        GROUP BY c.run_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = ("processed", "not_parsed", "latency", "prompt", "generated", "gold_documents", "gold_version_sum")
    result = {}
    for run_id, *values in rows:
        row = {"run_id": run_id}
        for name, value in zip(names, values[:-1], strict=True):
            row[name] = float(value) if isinstance(value, Decimal) else value
        for name in ("processed", "not_parsed", "gold_documents", "gold_version_sum"):
            row[name] = int(row[name] or 0)
        row["gold_updated"] = _datetime(values[-1])
        result[run_id] = row
    return result


def _datetime(value):
    """A timestamp from plain SQL: aware datetimes on PostgreSQL, text on SQLite."""
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None and timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, UTC)
        return parsed
    return value


def _stale(report: EvaluationReport, aggregate: dict | None) -> bool | None:
    """``selectors.report_stale`` from the aggregate query where it holds the same gold state
    (a report of one run); a report that also scored a compared run asks the selector."""
    stored = (report.config or {}).get("gold_state")
    if report.status != EvaluationStatus.DONE or not stored:
        return None
    if report.compare_run_id:
        return report_stale(report=report)
    aggregate = aggregate or {}
    updated = aggregate.get("gold_updated")
    now = {
        "documents": aggregate.get("gold_documents") or 0,
        "version_sum": aggregate.get("gold_version_sum") or 0,
        "updated_max": updated.isoformat() if updated else None,
    }
    return now != stored


def micro_average(categories: dict[str, dict]) -> dict:
    """Per metric, the category means weighted by their n (``n`` for ROUGE, ``n_entity`` for
    entity, ``n_bertscore`` for BERTScore): the mean over all scored document x category
    pairs. None where no category has the metric."""
    result = {}
    for metric, _ in METRICS:
        weight = _weight_key(metric)
        pairs = [(c.get(weight) or 0, c.get(metric)) for c in categories.values()]
        pairs = [(n, v) for n, v in pairs if n and v is not None]
        total = sum(n for n, _ in pairs)
        result[metric] = math.fsum(n * v for n, v in pairs) / total if total else None
    for key in WEIGHTS.values():
        result[key] = sum(c.get(key) or 0 for c in categories.values())
    return result


def comparison_build(
    *,
    project: Project,
    runs: list[ModelRun],
    reference: ModelRun | None = None,
    language: str | None = None,
    split: str | None = None,
    significance: bool = True,
    stats: bool = True,
) -> Comparison:
    """The runs' latest evaluations of the selection side by side. Runs without one raise
    ``EvaluationsMissing`` (400: each run, its pending evaluation and the ``evaluate``
    command that makes one). ``significance=False`` leaves the
    paired tests out, ``stats=False`` the candidate statistics and staleness (one query
    over every candidate of the runs; the charts need neither)."""
    reference, language, split = selection_check(
        project=project, runs=runs, reference=reference, language=language, split=split
    )
    reports = latest_reports(runs, language, split)
    if len(reports) < len(runs):
        raise evaluations_missing(
            project=project, runs=runs, reference=reference, reports=reports, language=language, split=split
        )
    aggregates = _run_aggregates(runs, language, split) if stats else {}
    entries = []
    for run in runs:
        report = reports[run.pk]
        results = report.results or {}
        categories = results.get("categories") or {}
        row = aggregates.get(run.pk) or {}
        run_stats = RunStats(
            candidates=row.get("processed") or 0,
            not_parsed=row.get("not_parsed") or 0,
            latency_ms=row.get("latency"),
            prompt_tokens=row.get("prompt"),
            generated_tokens=row.get("generated"),
        )
        entries.append(
            ComparedRun(
                run=run,
                report=report,
                stale=_stale(report, row) if stats else None,
                stats=run_stats,
                categories=categories,
                macro=results.get("overall") or {},
                micro=micro_average(categories),
            )
        )
    schema = evaluation_categories(project=project)
    present = {key for e in entries for key in e.categories}
    ordered = [c for c in schema if c.key in present]
    known = {c.key for c in ordered}
    ordered += [EvalCategory(key, key, True) for key in sorted(present - known)]  # no longer in the schema
    comparison = Comparison(
        project=project,
        runs=entries,
        reference=next(e for e in entries if e.run.pk == reference.pk),
        language=language,
        split=split,
        categories=ordered,
        significance=Significance(status="none"),
    )
    if significance:
        comparison.significance = significance_get(comparison=comparison)
    return comparison


# The report and chart data live in their own module; named here too (the interface).
from .comparison_tables import chart_data, comparison_report  # noqa: E402

__all__ = [
    "CHART_METRICS",
    "DEFAULT_CHART_METRIC",
    "METRICS",
    "METRIC_LABELS",
    "ComparedRun",
    "Comparison",
    "EvaluationsMissing",
    "MissingRun",
    "RunStats",
    "Significance",
    "chart_data",
    "comparison_build",
    "comparison_report",
    "micro_average",
    "runs_resolve",
]

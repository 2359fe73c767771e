"""Reads of the evaluation app: the (gold, candidate) rows an evaluation scores, and
stored reports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import QuerySet

from annotation.models import Project
from elmtex_site.errors import NotFound
from inference.models import Candidate, ModelRun

from .models import EvaluationReport

ROW_CHUNK = 2000


@dataclass(frozen=True)
class EvalCategory:
    key: str
    label: str
    entity: bool  # entity metrics apply


def evaluation_categories(*, project: Project) -> list[EvalCategory]:
    """The categories with text metrics, in schema order (13 for the elmtex schema)."""
    rows = project.categories.filter(text_metrics=True).order_by("order", "key")
    return [EvalCategory(c.key, c.label, c.entity_metrics) for c in rows]


class EvalRow(NamedTuple):
    document_id: int
    language: str
    status: str
    values: dict | None  # the candidate's parsed values
    gold_values: dict
    gold_version: int
    split: str = ""


def evaluation_rows(*, run: ModelRun, language: str | None = None, split: str | None = None) -> Iterator[EvalRow]:
    """One row per candidate of the run whose document has gold, in document order.

    One streamed query (candidate joined to document and gold), never a query per
    document; rows are read in chunks so memory does not grow with the run.
    """
    qs = Candidate.objects.filter(run=run, document__gold__isnull=False)
    if language:
        qs = qs.filter(document__language=language)
    if split:
        qs = qs.filter(document__split=split)
    fields = (
        "document_id",
        "document__language",
        "status",
        "values",
        "document__gold__values",
        "document__gold__version",
        "document__split",
    )
    for row in qs.order_by("document_id").values_list(*fields).iterator(chunk_size=ROW_CHUNK):
        yield EvalRow(*row)


def evaluation_candidate_count(*, run: ModelRun, language: str | None = None, split: str | None = None) -> int:
    """Candidates of the run in the selection, with or without gold."""
    qs = Candidate.objects.filter(run=run)
    if language:
        qs = qs.filter(document__language=language)
    if split:
        qs = qs.filter(document__split=split)
    return qs.count()


def _selection_gold(*, run_ids: list[int], language: str | None, split: str | None):
    from annotation.models import Gold

    candidates = Candidate.objects.filter(run_id__in=run_ids)
    if language:
        candidates = candidates.filter(document__language=language)
    if split:
        candidates = candidates.filter(document__split=split)
    return Gold.objects.filter(document_id__in=candidates.values("document_id"))


def gold_state(*, run_ids: list[int], language: str | None = None, split: str | None = None) -> dict:
    """A cheap fingerprint of the gold behind an evaluation's selection (one aggregate
    query): how many documents have gold, the sum of their ``Gold.version`` (adjudication
    raises it) and the latest ``updated_at``. A stored report whose state differs from
    today's is stale."""
    from django.db.models import Count, Max, Sum

    state = _selection_gold(run_ids=run_ids, language=language, split=split).aggregate(
        documents=Count("pk"), version_sum=Sum("version"), updated_max=Max("updated_at")
    )
    updated = state["updated_max"]
    return {
        "documents": state["documents"],
        "version_sum": state["version_sum"] or 0,
        "updated_max": updated.isoformat() if updated else None,
    }


def report_stale(*, report: EvaluationReport) -> bool | None:
    """True when the gold of the report's selection changed since it was scored (a gold
    value adjudicated, added or removed); None when that cannot be told (a report that is
    not done, or one stored before the gold state was recorded)."""
    stored = (report.config or {}).get("gold_state")
    if report.status != "done" or not stored:
        return None
    run_ids = [report.run_id] + ([report.compare_run_id] if report.compare_run_id else [])
    config = report.config or {}
    now = gold_state(run_ids=run_ids, language=config.get("language"), split=config.get("split"))
    return now != stored


def reports_stale(*, reports) -> dict[int, bool | None]:
    """:func:`report_stale` for a page of reports: one gold-state query per distinct
    selection (run, compared run, language, split), not one per report."""
    states: dict[tuple, dict] = {}
    stale: dict[int, bool | None] = {}
    for report in reports:
        config = report.config or {}
        stored = config.get("gold_state")
        if report.status != "done" or not stored:
            stale[report.pk] = None
            continue
        run_ids = [report.run_id] + ([report.compare_run_id] if report.compare_run_id else [])
        key = (tuple(run_ids), config.get("language"), config.get("split"))
        if key not in states:
            states[key] = gold_state(run_ids=run_ids, language=config.get("language"), split=config.get("split"))
        stale[report.pk] = states[key] != stored
    return stale


def reports_for_project(*, project: Project) -> QuerySet[EvaluationReport]:
    """Newest first; the heavy per-document scores are left out."""
    return (
        EvaluationReport.objects.filter(project=project)
        .select_related("run", "compare_run", "created_by")
        .defer("per_document")
    )


def report_get(*, project: Project, pk: int, with_documents: bool = False) -> EvaluationReport:
    qs = reports_for_project(project=project)
    if with_documents:
        qs = qs.defer(None)
    report = qs.filter(pk=pk).first()
    if report is None:
        raise NotFound(f"evaluation {pk} does not exist in project {project.slug!r}")
    keys = list(project.categories.order_by("order", "key").values_list("key", flat=True))
    report.results = results_in_schema_order(report.results, keys)
    return report


def results_in_schema_order(results: dict | None, keys: list[str]) -> dict | None:
    """The report's per-category blocks in the project's category order. PostgreSQL's
    jsonb stores object keys sorted by length, not in the order they were written."""
    if not results:
        return results
    position = {key: i for i, key in enumerate(keys)}

    def ordered(blocks: dict) -> dict:
        return dict(sorted(blocks.items(), key=lambda item: position.get(item[0], len(position))))

    results = {**results, "categories": ordered(results.get("categories") or {})}
    if results.get("compare"):
        results["compare"] = {**results["compare"], "categories": ordered(results["compare"]["categories"])}
    return results

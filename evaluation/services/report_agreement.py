"""Agreement overview report: the latest stored agreement report of a selection as tables
(judgement statistics, text agreement, annotators vs gold), and each annotator's
throughput computed live from the assignments.

Agreement itself is computed by ``services.agreement`` (the agreement page, the API, the
``agreement`` command); this report only reads the stored result, so the figures here
are the stored ones.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from django.db.models import Count, Max, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone

from annotation.models import Assignment, AssignmentStatus, Project
from evaluation.models import AgreementReport, EvaluationStatus
from evaluation.report_tables import Cell, Column, Report, Table
from evaluation.selectors_agreement import agreement_staleness, results_in_schema_order

from .report_errors import ROW_CHUNK, report_selection_check

# (results key, column label, kind)
AGREEMENT_COLUMNS = (
    ("items", "Items", "int"),
    ("annotators", "Annotators", "int"),
    ("krippendorff_alpha", "Krippendorff's alpha", "float"),
    ("fleiss_kappa", "Fleiss' kappa", "float"),
    ("cohen_kappa_mean", "Cohen's kappa (mean)", "float"),
    ("text_rougeL_mean", "ROUGE-L between annotators", "float"),
    ("text_entity_f1_mean", "Entity F1 between annotators", "float"),
    ("annotator_vs_gold_rougeL_mean", "ROUGE-L vs gold", "float"),
    ("annotator_vs_gold_entity_f1_mean", "Entity F1 vs gold", "float"),
)
STATUSES = (
    AssignmentStatus.ASSIGNED,
    AssignmentStatus.IN_PROGRESS,
    AssignmentStatus.SUBMITTED,
    AssignmentStatus.SKIPPED,
    AssignmentStatus.WITHDRAWN,
)


def agreement_report_latest(
    *, project: Project, language: str | None = None, split: str | None = None
) -> AgreementReport | None:
    """The newest finished agreement report computed for exactly this selection."""
    reports = AgreementReport.objects.filter(project=project, status=EvaluationStatus.DONE).order_by(
        "-created_at", "-id"
    )
    for pk, config in reports.values_list("id", "config").iterator(chunk_size=100):
        config = config or {}
        if (config.get("language") or None, config.get("split") or None) == (language, split):
            return AgreementReport.objects.select_related("project").get(pk=pk)
    return None


def _agreement_tables(project: Project, report: AgreementReport | None, agreement_page: str) -> list[Table]:
    columns = [Column("category", "Category", "text"), Column("label", "Label", "text")]
    columns += [Column(key, label, kind) for key, label, kind in AGREEMENT_COLUMNS]
    gold_columns = [
        Column("category", "Category", "text"),
        Column("annotator", "Annotator", "text"),
        Column("n", "Documents", "int"),
        Column("rougeL", "ROUGE-L vs gold", "float"),
        Column("entity_f1", "Entity F1 vs gold", "float"),
    ]
    if report is None:
        missing = (
            f"No agreement report has been computed for this selection; compute one on the agreement page "
            f"({agreement_page})."
        )
        return [
            Table("agreement", "Agreement per category", columns, [], notes=[missing]),
            Table("annotator_vs_gold", "Annotators vs gold", gold_columns, [], notes=[missing]),
        ]
    keys = list(project.categories.order_by("order", "key").values_list("key", flat=True))
    results = results_in_schema_order(report.results or {}, keys) or {}
    rows, gold_rows = [], []
    for key, block in (results.get("categories") or {}).items():
        row = {"category": key, "label": block.get("label", key)}
        row.update({name: block.get(name) for name, _, _ in AGREEMENT_COLUMNS})
        rows.append(row)
        for annotator, figures in (block.get("annotator_vs_gold") or {}).items():
            gold_rows.append(
                {
                    "category": key,
                    "annotator": annotator,
                    "n": figures.get("n"),
                    "rougeL": figures.get("rougeL"),
                    "entity_f1": figures.get("entity_f1"),
                }
            )
    overall = results.get("overall") or {}
    if overall:
        row = {"category": "overall", "label": "all categories"}
        row.update({name: overall.get(name) for name, _, _ in AGREEMENT_COLUMNS})
        rows.append(row)
    notes = [
        "Items: documents judged by two or more annotators. Alpha, Fleiss and Cohen on the per-field judgements "
        "(nominal); text figures mean pairwise between annotators; empty where a statistic is undefined or does "
        "not apply. Overall: judgements pooled over categories, text figures macro means.",
    ]
    return [
        Table("agreement", "Agreement per category", columns, rows, notes=notes),
        Table(
            "annotator_vs_gold",
            "Annotators vs gold",
            gold_columns,
            gold_rows,
            notes=["Each annotator's values scored as a prediction against gold (gold N/A skipped)."],
        ),
    ]


def annotator_throughput(*, project: Project, language: str | None = None, split: str | None = None) -> list[dict]:
    """Per annotator (by username): assignments per status, time per submitted document
    (total and median over the submitted ones with recorded time), documents per hour of
    that time, first and last submission. One GROUP BY, then one streamed read of the
    submitted times for the medians."""
    qs = Assignment.objects.filter(project=project)
    if language:
        qs = qs.filter(document__language=language)
    if split:
        qs = qs.filter(document__split=split)
    submitted = Q(status=AssignmentStatus.SUBMITTED)
    timed = submitted & Q(time_spent_seconds__gt=0)
    aggregates = {status.value: Count("id", filter=Q(status=status)) for status in STATUSES}
    rows = (
        qs.order_by()
        .values("annotator_id", "annotator__username")
        .annotate(
            total=Count("id"),
            timed=Count("id", filter=timed),
            seconds=Sum("time_spent_seconds", filter=timed),
            first=Min("submitted_at", filter=submitted),
            last=Max("submitted_at", filter=submitted),
            **aggregates,
        )
    )
    times: dict[int, list[float]] = defaultdict(list)
    timed_rows = qs.filter(timed).order_by().values_list("annotator_id", "time_spent_seconds")
    for annotator_id, seconds in timed_rows.iterator(chunk_size=ROW_CHUNK):
        times[annotator_id].append(seconds)
    out = []
    for row in sorted(rows, key=lambda r: r["annotator__username"]):
        seconds = row["seconds"] or 0.0
        spent = times.get(row["annotator_id"], [])
        out.append(
            {
                "annotator": row["annotator__username"],
                **{status.value: row[status.value] for status in STATUSES},
                "total": row["total"],
                "timed": row["timed"],
                "seconds_total": seconds if row["timed"] else None,
                "seconds_median": statistics.median(spent) if spent else None,
                "documents_per_hour": row["timed"] / (seconds / 3600) if seconds > 0 else None,
                "first_submitted": row["first"].isoformat(timespec="seconds") if row["first"] else None,
                "last_submitted": row["last"].isoformat(timespec="seconds") if row["last"] else None,
            }
        )
    return out


def _throughput_table(rows: list[dict]) -> Table:
    columns = [
        Column("annotator", "Annotator", "text"),
        Column("assigned", "Assigned", "int"),
        Column("in_progress", "In progress", "int"),
        Column("submitted", "Submitted", "int"),
        Column("skipped", "Skipped", "int"),
        Column("withdrawn", "Withdrawn", "int"),
        Column("total", "Total", "int"),
        Column("timed", "Submitted with time", "int"),
        Column("seconds_total", "Time total (s)", "float"),
        Column("seconds_median", "Median time per document (s)", "float"),
        Column("documents_per_hour", "Documents per hour", "float"),
        Column("first_submitted", "First submission", "text"),
        Column("last_submitted", "Last submission", "text"),
    ]
    notes = [
        "Live from the assignments. Time: the active time recorded on the submitted documents with a time "
        "(imported annotations record none); documents per hour = those documents / their total hours.",
    ]
    return Table("annotators", "Annotator throughput", columns, rows, notes=notes, digits=1)


def agreement_overview_report(*, project: Project, language: str | None = None, split: str | None = None) -> Report:
    """Agreement figures of the latest finished agreement report of the selection, and
    the annotators' throughput."""
    language, split = report_selection_check(project=project, language=language, split=split)
    agreement_page = reverse("agreement-list", args=[project.slug])
    report = agreement_report_latest(project=project, language=language, split=split)
    tables = _agreement_tables(project, report, agreement_page)
    if report is None:
        tables[0].rows.append(
            {"category": Cell("no agreement report for this selection: compute one", url=agreement_page)}
        )
    tables.append(_throughput_table(annotator_throughput(project=project, language=language, split=split)))
    meta = {
        "project": project.slug,
        "language": language or "any",
        "split": split or "any",
        "agreement_page": agreement_page,
        "agreement_report": report.pk if report else None,
        "agreement_report_url": reverse("agreement-detail", args=[project.slug, report.pk]) if report else None,
        "agreement_computed_at": report.created_at.isoformat(timespec="seconds") if report else None,
        "agreement_stale": agreement_staleness(report=report).stale if report else None,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    if report is None:
        meta["agreement"] = "no agreement report computed for this selection"
    elif meta["agreement_stale"]:
        meta["agreement"] = "stale: annotations changed since the report was computed"
    else:
        meta["agreement"] = "current"
    return Report(kind="agreement", title=f"Agreement · {project.slug}", tables=tables, meta=meta)

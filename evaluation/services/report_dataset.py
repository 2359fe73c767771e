"""Dataset overview report: documents per split and language, gold coverage per category
(share of ``N/A`` per language), gold origin and annotation progress.

Every figure is a GROUP BY or a conditional aggregate (one pass over gold for all
categories), so the report stays fast on projects with tens of thousands of documents.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone

from annotation.models import Assignment, AssignmentStatus, Document, Gold, GoldOrigin, Project, Split
from annotation.schema import NA
from evaluation.report_tables import Column, Report, Table

SPLITS = tuple(Split.values)
ALL = "all"


def _documents_table(project: Project) -> tuple[Table, list[str], int]:
    counts = (
        Document.objects.filter(project=project)
        .order_by()
        .values("language", "split")
        .annotate(documents=Count("id"), with_gold=Count("gold"))
    )
    languages: dict[str, dict] = {}
    for row in counts:
        entry = languages.setdefault(row["language"], {s: 0 for s in SPLITS} | {"total": 0, "with_gold": 0})
        entry[row["split"]] = entry.get(row["split"], 0) + row["documents"]
        entry["total"] += row["documents"]
        entry["with_gold"] += row["with_gold"]
    rows = [{"language": language, **languages[language]} for language in sorted(languages)]
    total = {"language": ALL, **{key: sum(r[key] for r in rows) for key in (*SPLITS, "total", "with_gold")}}
    columns = [
        Column("language", "Language", "text"),
        *[Column(split, split, "int") for split in SPLITS],
        Column("total", "Total", "int"),
        Column("with_gold", "With gold", "int"),
    ]
    table = Table("documents", "Documents per split and language", columns, [*rows, total])
    return table, sorted(languages), total["total"]


def _coverage_table(project: Project, languages: list[str]) -> Table:
    """N/A share per category and language: one aggregate query over gold, grouped by language."""
    categories = list(project.categories.order_by("order", "key").values_list("key", "label"))
    aggregates = {"gold": Count("pk")}
    for i, (key, _) in enumerate(categories):
        aggregates[f"na{i}"] = Count("pk", filter=Q(**{f"values__{key}": NA}))
    per_language = {
        row["document__language"]: row
        for row in Gold.objects.filter(document__project=project)
        .order_by()
        .values("document__language")
        .annotate(**aggregates)
    }
    gold_total = sum(row["gold"] for row in per_language.values())
    rows = []
    for i, (key, label) in enumerate(categories):
        row = {"category": key, "label": label}
        na_total = 0
        for language in languages:
            counts = per_language.get(language)
            na = counts[f"na{i}"] if counts else 0
            na_total += na
            row[f"na_share_{language}"] = na / counts["gold"] if counts and counts["gold"] else None
        row["na"] = na_total
        row["filled"] = gold_total - na_total
        row["na_share"] = na_total / gold_total if gold_total else None
        rows.append(row)
    columns = [
        Column("category", "Category", "text"),
        Column("label", "Label", "text"),
        Column("filled", "Gold with a value", "int"),
        Column("na", "Gold N/A", "int"),
        Column("na_share", "N/A share", "pct"),
        *[Column(f"na_share_{language}", f"N/A share ({language})", "pct") for language in languages],
    ]
    notes = [f"Over the {gold_total} documents with gold; N/A share = gold values '{NA}' / documents with gold."]
    return Table("gold_coverage", "Gold coverage per category", columns, rows, notes=notes)


def _origin_table(project: Project, languages: list[str]) -> Table:
    counts = (
        Gold.objects.filter(document__project=project)
        .order_by()
        .values("origin", "document__language")
        .annotate(n=Count("pk"))
    )
    found = {(row["origin"], row["document__language"]): row["n"] for row in counts}
    rows = []
    for origin in GoldOrigin.values:
        row = {"origin": origin, **{language: found.get((origin, language), 0) for language in languages}}
        row["total"] = sum(row[language] for language in languages)
        rows.append(row)
    columns = [
        Column("origin", "Origin", "text"),
        *[Column(language, language, "int") for language in languages],
        Column("total", "Total", "int"),
    ]
    return Table("gold_origin", "Gold origin", columns, rows)


def dataset_progress(*, project: Project) -> dict:
    """Assignments per status; documents with one, two or more submitted annotations;
    adjudicated gold."""
    statuses = Assignment.objects.filter(project=project).order_by().values("status").annotate(n=Count("id"))
    by_status = {row["status"]: row["n"] for row in statuses}
    per_document = (
        Assignment.objects.filter(project=project, status=AssignmentStatus.SUBMITTED)
        .order_by()
        .values("document_id")
        .annotate(n=Count("id"))
    )
    return {
        "assignments": {status: by_status.get(status, 0) for status in AssignmentStatus.values},
        "assignments_total": sum(by_status.values()),
        "documents_submitted_1": per_document.count(),
        "documents_submitted_2": per_document.filter(n__gte=2).count(),
        "adjudicated": Gold.objects.filter(document__project=project, origin=GoldOrigin.ADJUDICATED).count(),
    }


def _progress_table(project: Project, documents: int) -> Table:
    progress = dataset_progress(project=project)
    rows = [
        {"measure": f"assignments {status.replace('_', ' ')}", "count": n, "share": None}
        for status, n in progress["assignments"].items()
    ]
    rows.append({"measure": "assignments total", "count": progress["assignments_total"], "share": None})

    def of_documents(measure: str, n: int) -> dict:
        return {"measure": measure, "count": n, "share": n / documents if documents else None}

    rows += [
        of_documents("documents with >= 1 submitted annotation", progress["documents_submitted_1"]),
        of_documents("documents with >= 2 submitted annotations", progress["documents_submitted_2"]),
        of_documents("documents with adjudicated gold", progress["adjudicated"]),
    ]
    columns = [Column("measure", "Measure", "text"), Column("count", "Count", "int"), Column("share", "Share", "pct")]
    return Table("progress", "Annotation progress", columns, rows, notes=["Share: of all documents of the project."])


def dataset_report(*, project: Project) -> Report:
    """The dataset overview of the project."""
    documents, languages, total = _documents_table(project)
    tables = [
        documents,
        _coverage_table(project, languages),
        _origin_table(project, languages),
        _progress_table(project, total),
    ]
    meta = {
        "project": project.slug,
        "documents": total,
        "languages": ", ".join(languages),
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    return Report(kind="dataset", title=f"Dataset overview · {project.slug}", tables=tables, meta=meta)

"""Reads for inter-annotator agreement: the submitted annotations of a selection, their
fingerprint, and stored agreement reports.

An annotation counts when its assignment is ``submitted`` (CLI.md, interfaces.md):
annotator = assignment.annotator, document = assignment.document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import QuerySet

from annotation.models import Annotation, AssignmentStatus, Project
from elmtex_site.errors import NotFound

from .models import AgreementReport

ROW_CHUNK = 2000


@dataclass(frozen=True)
class AgreementCategory:
    key: str
    label: str
    text: bool  # text metrics apply (ROUGE-L between annotators)
    entity: bool  # entity metrics apply


def agreement_categories(*, project: Project) -> list[AgreementCategory]:
    """Every category of the schema, in schema order: judgements exist for all of them."""
    rows = project.categories.order_by("order", "key")
    return [AgreementCategory(c.key, c.label, c.text_metrics, c.entity_metrics) for c in rows]


def submitted_annotations(*, project: Project, language: str | None = None, split: str | None = None) -> QuerySet:
    qs = Annotation.objects.filter(
        assignment__project=project,
        assignment__document__project=project,
        assignment__status=AssignmentStatus.SUBMITTED,
    )
    if language:
        qs = qs.filter(assignment__document__language=language)
    if split:
        qs = qs.filter(assignment__document__split=split)
    return qs


class AgreementRow(NamedTuple):
    annotation_id: int
    version: int
    document_id: int
    language: str
    annotator_id: int
    annotator: str  # username
    values: dict
    judgements: dict
    gold_values: dict | None  # None: the document has no gold


def agreement_rows(
    *, project: Project, language: str | None = None, split: str | None = None
) -> Iterator[AgreementRow]:
    """Submitted annotations joined to document, annotator and gold, by document then
    annotator username: one streamed query, read in chunks."""
    fields = (
        "id",
        "version",
        "assignment__document_id",
        "assignment__document__language",
        "assignment__annotator_id",
        "assignment__annotator__username",
        "values",
        "judgements",
        "assignment__document__gold__values",
    )
    qs = submitted_annotations(project=project, language=language, split=split)
    qs = qs.order_by("assignment__document_id", "assignment__annotator__username", "id").values_list(*fields)
    for row in qs.iterator(chunk_size=ROW_CHUNK):
        yield AgreementRow(*row)


def agreement_selection_counts(*, project: Project, language: str | None = None, split: str | None = None) -> dict:
    """Documents, annotators and annotations in the selection (submitted only)."""
    qs = submitted_annotations(project=project, language=language, split=split)
    annotators = list(
        qs.order_by("assignment__annotator__username")
        .values_list("assignment__annotator_id", "assignment__annotator__username")
        .distinct()
    )
    return {
        "annotations": qs.count(),
        "documents": qs.values("assignment__document_id").distinct().count(),
        "annotators": annotators,
    }


def annotations_version(*, project: Project, language: str | None = None, split: str | None = None) -> str:
    """Fingerprint of the submitted annotations of the selection: sha256 over (annotation
    id, version) in id order. A new submission, an edit (version bump) or an annotation
    that stops counting (re-opened) changes it."""
    digest = hashlib.sha256()
    qs = submitted_annotations(project=project, language=language, split=split).order_by("id")
    for pk, version in qs.values_list("id", "version").iterator(chunk_size=10_000):
        digest.update(f"{pk}:{version}\n".encode())
    return f"sha256:{digest.hexdigest()[:16]}"


def agreement_reports_for_project(*, project: Project) -> QuerySet[AgreementReport]:
    """Newest first."""
    return AgreementReport.objects.filter(project=project).select_related("created_by")


def agreement_report_get(*, project: Project, pk: int) -> AgreementReport:
    report = agreement_reports_for_project(project=project).filter(pk=pk).first()
    if report is None:
        raise NotFound(f"agreement report {pk} does not exist in project {project.slug!r}")
    keys = list(project.categories.order_by("order", "key").values_list("key", flat=True))
    report.results = results_in_schema_order(report.results, keys)
    return report


def results_in_schema_order(results: dict | None, keys: list[str]) -> dict | None:
    """Per-category blocks in the project's category order (jsonb reorders object keys)."""
    if not results or not results.get("categories"):
        return results
    position = {key: i for i, key in enumerate(keys)}
    ordered = dict(sorted(results["categories"].items(), key=lambda item: position.get(item[0], len(position))))
    return {**results, "categories": ordered}


class Staleness(NamedTuple):
    stale: bool
    current_version: str


def agreement_staleness(*, report: AgreementReport, cache: dict | None = None) -> Staleness:
    """Whether submitted annotations changed since the report was computed. ``cache``
    (language, split) -> version spares recomputing the fingerprint on a list page."""
    config = report.config or {}
    selection = (config.get("language"), config.get("split"))
    if cache is not None and selection in cache:
        current = cache[selection]
    else:
        current = annotations_version(project=report.project, language=selection[0], split=selection[1])
        if cache is not None:
            cache[selection] = current
    stale = bool(report.annotations_version) and report.status == "done" and current != report.annotations_version
    return Staleness(stale, current)

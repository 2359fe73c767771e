"""Reads of automated-check findings (:class:`CheckResult`).

Blinding: researchers, reviewers and staff see every finding; an annotator sees only the
findings on their own annotations (never gold's, never a candidate's, never another
annotator's). Pages and API ask :func:`checks_visible_targets` /
:func:`annotation_ids_for_user` before calling :func:`checks_for_document`.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet

from elmtex_site.errors import ApplicationError, NotFound, PermissionDenied

from . import checks as pure
from .models import Annotation, CheckResult, CheckTarget, Document, Project
from .selectors import can_view_documents, project_role

ALL_TARGETS = ("gold", "candidate", "annotation")
PAGE_SIZE = 50


def annotation_ids_for_user(*, user, project: Project, document: Document | None = None) -> list[int]:
    """The ids of the user's own annotations in the project (what an annotator may see
    findings on), optionally on one document."""
    qs = Annotation.objects.filter(assignment__project=project, assignment__annotator=user)
    if document is not None:
        qs = qs.filter(assignment__document=document)
    return list(qs.values_list("id", flat=True))


def checks_visible_targets(*, user, project: Project) -> tuple[tuple[str, ...], list[int] | None]:
    """``(targets, annotation_ids)`` the user may see: everything for researchers,
    reviewers and staff (ids None = all); own annotations only for annotators."""
    role = project_role(user=user, project=project)
    if can_view_documents(role):
        return ALL_TARGETS, None
    return ("annotation",), annotation_ids_for_user(user=user, project=project)


def _finding(row: CheckResult | dict) -> dict:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {k: get(k) for k in ("code", "severity", "message", "details")}


def checks_for_document(
    *, document: Document, targets: tuple = ALL_TARGETS, annotation_ids: list[int] | None = None
) -> dict:
    """``{target: {target_id: {category: [{code, severity, message, details}]}}}`` (one
    query). ``annotation_ids`` (when not None) restricts annotation findings to those ids:
    for an annotator pass ``targets=("annotation",)`` and :func:`annotation_ids_for_user`.
    Category ``""`` holds whole-record findings (e.g. the translation length)."""
    wanted = Q(target__in=targets)
    if annotation_ids is not None:
        others = [t for t in targets if t != "annotation"]
        wanted = Q(target__in=others)
        if "annotation" in targets:
            wanted |= Q(target="annotation", target_id__in=annotation_ids)
    qs = CheckResult.objects.filter(wanted, document=document)
    out: dict = {t: {} for t in targets}
    rows = qs.values("target", "target_id", "category", "code", "severity", "message", "details", "id")
    for row in sorted(rows, key=lambda r: r["id"]):
        out[row["target"]].setdefault(row["target_id"], {}).setdefault(row["category"], []).append(_finding(row))
    return out


def checks_for_annotation(*, user, project: Project, annotation_id: int) -> dict:
    """``{category: [finding]}`` of one annotation. Annotators: their own only (404 for
    others', not revealing they exist); researchers, reviewers and staff: any."""
    ann = Annotation.objects.filter(pk=annotation_id, assignment__project=project).select_related("assignment").first()
    role = project_role(user=user, project=project)
    if ann is None or (not can_view_documents(role) and ann.assignment.annotator_id != user.pk):
        raise NotFound(f"annotation {annotation_id} does not exist in project {project.slug!r} or is not yours")
    by_target = checks_for_document(document=ann.assignment.document, targets=("annotation",))
    return {
        "annotation": ann.pk,
        "document": ann.assignment.document_id,
        "findings": by_target["annotation"].get(ann.pk, {}),
    }


def checks_summary(*, project: Project, examples: int = 5) -> list[dict]:
    """Per target x code: ``{target, code, severity, description, findings, documents,
    categories: {key: n}, example_documents: [ids], last_checked}``, in target then code
    order. Two aggregate queries, then one short index-driven query per row for the examples
    (a window over every finding took ~0.5 s at 190,000 findings)."""
    base = CheckResult.objects.filter(project=project).order_by()
    rows = base.values("target", "code").annotate(documents=Count("document", distinct=True))
    documents = {(r["target"], r["code"]): r["documents"] for r in rows}
    grouped = base.values("target", "code", "category").annotate(n=Count("id"), last=Max("created_at"))
    out: dict[tuple[str, str], dict] = {}
    for r in grouped:
        key = (r["target"], r["code"])
        severity, description = pure.CODES.get(r["code"], (pure.WARNING, r["code"]))
        row = out.setdefault(
            key,
            {
                "target": r["target"],
                "code": r["code"],
                "severity": severity,
                "description": description,
                "findings": 0,
                "documents": documents.get(key, 0),
                "categories": {},
                "last_checked": r["last"],
            },
        )
        row["findings"] += r["n"]
        row["categories"][r["category"]] = r["n"]
        row["last_checked"] = max(row["last_checked"], r["last"])
    order = {t: i for i, t in enumerate(CheckTarget.values)}
    result = sorted(out.values(), key=lambda r: (order.get(r["target"], 9), r["code"]))
    for row in result:
        row["categories"] = dict(sorted(row["categories"].items()))
        row["example_documents"] = _example_documents(
            project=project, target=row["target"], code=row["code"], n=examples
        )
    return result


def _example_documents(*, project: Project, target: str, code: str, n: int) -> list[int]:
    """Up to ``n`` distinct document ids with this finding: the first rows the index gives."""
    ids = (
        CheckResult.objects.filter(project=project, code=code, target=target)
        .order_by()
        .values_list("document_id", flat=True)[: n * 10]
    )
    return sorted(dict.fromkeys(ids))[:n]


def checks_filtered(
    *,
    project: Project,
    target: str = "",
    code: str = "",
    category: str = "",
    run=None,
    document_id: int | None = None,
) -> QuerySet:
    """Findings filtered by target, code, category, run (candidates of that run) and
    document, ordered by document: a ``values()`` queryset for :func:`finding_row`."""
    if target and target not in CheckTarget.values:
        raise ApplicationError(f"target: expected one of {', '.join(CheckTarget.values)}, got {target!r}")
    qs: QuerySet = CheckResult.objects.filter(project=project)
    if target:
        qs = qs.filter(target=target)
    if code:
        qs = qs.filter(code=code)
    if category:
        qs = qs.filter(category=category)
    if document_id is not None:
        qs = qs.filter(document_id=document_id)
    if run is not None:
        from django.apps import apps

        cand_ids = apps.get_model("inference", "Candidate").objects.filter(run=run).values("id")
        qs = qs.filter(target="candidate", target_id__in=cand_ids)
    return qs.order_by("document_id", "target", "id").values(
        "id", "document_id", "document__external_id", "document__language", "target", "target_id",
        "category", "code", "severity", "message", "details",
    )  # fmt: skip


def finding_row(r: dict) -> dict:
    return {
        "id": r["id"],
        "document": r["document_id"],
        "patient_id": r["document__external_id"],
        "language": r["document__language"],
        "target": r["target"],
        "target_id": r["target_id"],
        "category": r["category"],
        "code": r["code"],
        "severity": r["severity"],
        "message": r["message"],
        "details": r["details"],
    }


def checks_list(*, project: Project, page: int = 1, page_size: int = PAGE_SIZE, **filters) -> dict:
    """One page of :func:`checks_filtered`: ``{count, page, pages, results: [finding_row]}``."""
    paginator = Paginator(checks_filtered(project=project, **filters), page_size)
    if page < 1 or (page > paginator.num_pages and page != 1):
        raise NotFound(f"page {page} does not exist (there are {paginator.num_pages})")
    page_obj = paginator.page(page)
    results = [finding_row(r) for r in page_obj.object_list]
    return {"count": paginator.count, "page": page, "pages": paginator.num_pages, "results": results}


def checks_codes(*, project: Project) -> list[str]:
    """The codes with stored findings, for filter choices (one query)."""
    return list(CheckResult.objects.filter(project=project).values_list("code", flat=True).distinct().order_by("code"))


def checks_require_view(*, role: str | None) -> None:
    """Project-wide findings: researchers, reviewers and staff only."""
    if not can_view_documents(role):
        raise PermissionDenied("annotators see check findings on their own annotations only")

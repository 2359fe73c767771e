"""Rows of the review queue and annotator queue pages, built so a page costs the same at
60,000 documents as at 60.

``selectors_work.review_queue`` (the API's) groups every document of the project before
it can count or page (seconds at 60,000 documents). The page instead computes its numbers
as per-row subqueries, which PostgreSQL evaluates only for the rows it returns, walks the
documents in id order and stops after one page (+1 row, to know whether there is a next
page). No total count: counting would visit every document again.
"""

from __future__ import annotations

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import MD5, Cast, Coalesce

from .models import Annotation, Assignment, AssignmentStatus, Document, Gold, GoldOrigin, Project

REVIEW_FILTERS = ("pending", "disagreed", "agreed", "adjudicated", "all")
OPEN = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)


def _count(qs, expression) -> Coalesce:
    counted = qs.order_by().values("document_ref").annotate(n=expression).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_review_numbers(qs: QuerySet[Document]) -> QuerySet[Document]:
    submitted = Assignment.objects.filter(document=OuterRef("pk"), status=AssignmentStatus.SUBMITTED)
    submitted_annotations = Annotation.objects.filter(
        assignment__document=OuterRef("pk"), assignment__status=AssignmentStatus.SUBMITTED
    ).annotate(document_ref=Value(1))
    open_assignments = Assignment.objects.filter(document=OuterRef("pk"), status__in=OPEN)
    return qs.annotate(
        n_submitted=_count(submitted.annotate(document_ref=Value(1)), Count("pk")),
        n_open=_count(open_assignments.annotate(document_ref=Value(1)), Count("pk")),
        n_distinct=_count(submitted_annotations, Count("values", distinct=True)),
        adjudicated=Exists(Gold.objects.filter(document=OuterRef("pk"), origin=GoldOrigin.ADJUDICATED)),
        has_gold=Exists(Gold.objects.filter(document=OuterRef("pk"))),
    )


def _agreed_document_ids(*, project: Project) -> QuerySet:
    values_hash = MD5(Cast("values", TextField()))
    return (
        Annotation.objects.filter(assignment__project=project, assignment__status=AssignmentStatus.SUBMITTED)
        .values("assignment__document_id")
        .annotate(n=Count("pk"), lo=Min(values_hash), hi=Max(values_hash))
        .filter(n__gte=2, lo=F("hi"))
        .values("assignment__document_id")
    )


def review_page_rows(*, project: Project, status: str, offset: int, limit: int) -> tuple[list[Document], bool]:
    """Documents with a submitted annotation, ``limit`` of them from ``offset`` in id order,
    each with ``n_submitted``, ``n_open``, ``n_distinct`` (distinct submitted value sets),
    ``agreed``, ``adjudicated`` and ``has_gold``; and whether more follow. ``status``: one
    of REVIEW_FILTERS (``disagreed`` includes documents with a single annotation).

    Two queries: the page's ids (only what the filter needs), then the numbers of those
    rows, so rows skipped by the offset never compute them."""
    adjudicated = Exists(Gold.objects.filter(document=OuterRef("pk"), origin=GoldOrigin.ADJUDICATED))
    base = Document.objects.filter(project=project).filter(
        Exists(Assignment.objects.filter(document=OuterRef("pk"), status=AssignmentStatus.SUBMITTED))
    )
    agreed = Q(n_submitted__gte=2, n_distinct=1)
    if status == "pending":
        base = base.exclude(adjudicated)
    elif status == "agreed":
        # Agreement is often rare: one grouped pass over the submitted annotations (equal
        # jsonb has equal text) instead of testing documents one by one until a page is full.
        base = base.exclude(adjudicated).filter(pk__in=_agreed_document_ids(project=project))
    elif status == "disagreed":
        base = _with_review_numbers(base.exclude(adjudicated)).exclude(agreed)
    elif status == "adjudicated":
        base = base.filter(adjudicated)
    ids = list(base.order_by("id").values_list("id", flat=True)[offset : offset + limit + 1])
    rows = list(
        _with_review_numbers(Document.objects.filter(pk__in=ids[:limit]))
        .only("id", "external_id", "language", "split")
        .order_by("id")
    )
    for row in rows:
        row.agreed = row.n_submitted >= 2 and row.n_distinct == 1
    return rows, len(ids) > limit


def queue_ids(*, project: Project, user) -> QuerySet:
    """Ids of the annotator's assignments that were not withdrawn, open ones (assigned, in
    progress) first, each group by id; for the queue page's paginator.

    Ids only, ordered by an expression: PostgreSQL reads the annotator's rows through the
    ``assignment_queue`` index and sorts those few thousand small rows; the page then loads
    its 50 rows with their documents (:func:`queue_rows`), so a deep page does not join
    every document before it."""
    open_first = Case(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Assignment.objects.filter(project=project, annotator=user)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .order_by(open_first, "id")
        .values_list("id", flat=True)
    )


def queue_rows(*, ids: list[int]) -> list[Assignment]:
    """The assignments ``ids`` (one page), in that order, with document id and language."""
    rows = Assignment.objects.filter(pk__in=ids).select_related("document")
    rows = rows.only(
        "id",
        "status",
        "skip_reason",
        "created_at",
        "updated_at",
        "submitted_at",
        "document__id",
        "document__external_id",
        "document__language",
    )
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]

"""Reads for the annotation work (issue 4): queues, forms, review, history, access log.

Blinding: annotators see only their own assignments and annotations — another
annotator's objects answer 404 (they do not exist for them), gold and review answer 403.
"""

from __future__ import annotations

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
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
)
from django.db.models.functions import Cast, Coalesce

from elmtex_site.errors import ApplicationError, NotFound, PermissionDenied

from .models import (
    AccessLog,
    Annotation,
    AnnotationRevision,
    AnnotationSettings,
    Assignment,
    AssignmentStatus,
    Category,
    Document,
    Gold,
    GoldOrigin,
    GoldRevision,
    Project,
    Role,
)
from .selectors import can_view_documents, project_role

REVIEW_STATUSES = ("pending", "agreed", "disagreed", "adjudicated")


def sees_all_work(role: str | None) -> bool:
    """Researchers, reviewers and staff see every annotator's work; annotators their own."""
    return can_view_documents(role)


def _role(*, user, project: Project) -> str | None:
    return project_role(user=user, project=project)


def assignment_for_user(*, user, project: Project, pk: int) -> Assignment:
    """One assignment: annotators only their own (404 for others'); reviewers,
    researchers and staff any of the project."""
    qs = Assignment.objects.filter(project=project, pk=pk).select_related("document", "annotator", "project")
    if not sees_all_work(_role(user=user, project=project)):
        qs = qs.filter(annotator=user)
    row = qs.first()
    if row is None:
        raise NotFound(f"assignment {pk} does not exist in project {project.slug!r} or is not yours")
    return row


def assignments_for_annotator(*, project: Project, user) -> QuerySet[Assignment]:
    """The annotator's queue: their assignments that were not withdrawn, oldest first
    (ordered by id so that a page is read straight off the index)."""
    return (
        Assignment.objects.filter(project=project, annotator=user)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .select_related("document")
        .defer("document__text", "document__content_hash", "document__metadata")
        .order_by("id")
    )


def assignments_list(
    *, project: Project, user, status: str = "", annotator: str = "", document: int | None = None
) -> QuerySet[Assignment]:
    """Assignments as the API lists them: annotators only their own."""
    qs = Assignment.objects.filter(project=project).select_related("document", "annotator")
    qs = qs.defer("document__text", "document__content_hash", "document__metadata")
    if not sees_all_work(_role(user=user, project=project)):
        qs = qs.filter(annotator=user)
    if status:
        qs = qs.filter(status=status)
    if annotator:
        qs = qs.filter(annotator__username=annotator)
    if document is not None:
        qs = qs.filter(document_id=document)
    return qs.order_by("id")


def annotator_progress(*, project: Project, user) -> dict:
    """``{"done", "assigned", "skipped"}``: submitted, all not withdrawn, skipped."""
    counts = Assignment.objects.filter(project=project, annotator=user).aggregate(
        done=Count("id", filter=Q(status=AssignmentStatus.SUBMITTED)),
        assigned=Count("id", filter=~Q(status=AssignmentStatus.WITHDRAWN)),
        skipped=Count("id", filter=Q(status=AssignmentStatus.SKIPPED)),
    )
    return {"done": counts["done"], "assigned": counts["assigned"], "skipped": counts["skipped"]}


def assignment_counts(*, project: Project) -> list[dict]:
    """Per annotator: assigned (not withdrawn), open, submitted, skipped, withdrawn."""
    rows = (
        Assignment.objects.filter(project=project)
        .values("annotator__username")
        .annotate(
            assigned=Count("id", filter=~Q(status=AssignmentStatus.WITHDRAWN)),
            open=Count("id", filter=Q(status__in=[AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS])),
            submitted=Count("id", filter=Q(status=AssignmentStatus.SUBMITTED)),
            skipped=Count("id", filter=Q(status=AssignmentStatus.SKIPPED)),
            withdrawn=Count("id", filter=Q(status=AssignmentStatus.WITHDRAWN)),
        )
        .order_by("annotator__username")
    )
    return [{"annotator": r.pop("annotator__username"), **r} for r in rows]


def annotation_form_context(*, assignment: Assignment) -> dict:
    """What the form shows: the document, the categories in order, the annotation (None
    before the first open), the draft shown, and the translation links."""
    document = assignment.document
    annotation = Annotation.objects.filter(assignment=assignment).first()
    if annotation is not None:
        draft = annotation.draft
    else:
        from .services.annotations import draft_values, project_keys

        draft = draft_values(assignment=assignment, keys=project_keys(assignment.project))
    return {
        "assignment": assignment,
        "document": document,
        "categories": list(Category.objects.filter(project_id=assignment.project_id).order_by("order")),
        "annotation": annotation,
        "draft": draft,
        "original": Document.objects.filter(pk=document.translation_of_id).only("id", "external_id", "language").first()
        if document.translation_of_id
        else None,
        "translations": list(document.translations.only("id", "external_id", "language").order_by("id")),
    }


def _per_document(qs: QuerySet, aggregate) -> Coalesce:
    """``aggregate`` over ``qs`` (filtered on ``OuterRef("pk")``) as a subquery, 0 when empty.
    Correlated subqueries rather than joined counts: a page of the queue computes them
    for its rows only."""
    counted = qs.order_by().values("document_key").annotate(n=aggregate).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _submitted_groups(project: Project) -> QuerySet:
    """Per document with submitted annotations: ``n`` and the smallest and largest value
    set as text (jsonb's text form is canonical, so equal smallest and largest = all the
    same; MIN/MAX need no sort, unlike COUNT(DISTINCT))."""
    as_text = Cast("values", TextField())
    return (
        Annotation.objects.filter(assignment__project=project, assignment__status=AssignmentStatus.SUBMITTED)
        .order_by()
        .values("assignment__document")
        .annotate(n=Count("pk"), lo=Min(as_text), hi=Max(as_text))
    )


def review_queue(*, project: Project, status: str | None = None) -> QuerySet[Document]:
    """Documents with at least one submitted annotation, each annotated with
    ``n_submitted``, ``n_open`` (assignments still being worked on), ``agreed`` (>= 2
    submitted, all with the same values), ``adjudicated`` and ``has_gold``. ``status``:
    pending (not adjudicated), agreed, disagreed (both not adjudicated yet) or adjudicated.

    The per-row numbers are correlated subqueries, computed for the rows of a page only;
    the status filters group the project's submitted annotations once.
    """
    if status and status not in REVIEW_STATUSES:
        raise ApplicationError(f"status: expected one of {', '.join(REVIEW_STATUSES)}, got {status!r}")
    groups = _submitted_groups(project)
    agreed_ids = groups.filter(n__gte=2, lo=F("hi")).values("assignment__document")
    submitted = Annotation.objects.filter(
        assignment__document=OuterRef("pk"), assignment__status=AssignmentStatus.SUBMITTED
    ).annotate(document_key=F("assignment__document"))
    open_rows = Assignment.objects.filter(
        document=OuterRef("pk"), status__in=[AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS]
    ).annotate(document_key=F("document"))
    adjudicated = Gold.objects.filter(document=OuterRef("pk"), origin=GoldOrigin.ADJUDICATED)
    # Submitted assignments always hold an annotation (annotation_save, imports): the
    # existence test needs no join.
    has_submitted = Assignment.objects.filter(document=OuterRef("pk"), status=AssignmentStatus.SUBMITTED)
    if status == "agreed":
        qs = Document.objects.filter(pk__in=agreed_ids).exclude(Exists(adjudicated))
    elif status == "disagreed":
        qs = Document.objects.filter(pk__in=groups.values("assignment__document")).exclude(pk__in=agreed_ids)
        qs = qs.exclude(Exists(adjudicated))
    elif status == "adjudicated":
        qs = Document.objects.filter(Exists(adjudicated), Exists(has_submitted))
    else:
        qs = Document.objects.filter(Exists(has_submitted))
        if status == "pending":
            qs = qs.exclude(Exists(adjudicated))
    as_text = Cast("values", TextField())
    return (
        qs.filter(project=project)
        .defer("text", "content_hash", "metadata")
        .annotate(
            n_submitted=_per_document(submitted, Count("pk")),
            n_open=_per_document(open_rows, Count("pk")),
            agreed=ExpressionWrapper(
                Q(n_submitted__gte=2)
                & Q(
                    pk__in=Subquery(
                        submitted.order_by()
                        .values("document_key")
                        .annotate(lo=Min(as_text), hi=Max(as_text))
                        .filter(lo=F("hi"))
                        .values("document_key")
                    )
                ),
                output_field=BooleanField(),
            ),
            adjudicated=Exists(adjudicated),
            has_gold=Exists(Gold.objects.filter(document=OuterRef("pk"))),
        )
        .order_by("id")
    )


def review_context(*, document: Document) -> dict:
    """Everything the adjudication page shows: categories, submitted annotations (with
    annotator usernames), the drafts shown to annotators per run, the gold and its version."""
    from .services.adjudication import submitted_annotations

    annotations = submitted_annotations(document_ids=[document.pk]).get(document.pk, [])
    run_ids = {a.assignment.draft_run_id for a in annotations if a.assignment.draft_run_id}
    settings_row = AnnotationSettings.objects.filter(project_id=document.project_id).first()
    if settings_row and settings_row.prefill_run_id:
        run_ids.add(settings_row.prefill_run_id)
    drafts = []
    if run_ids:
        from inference.models import Candidate, CandidateStatus

        for run_id, run_name, values in (
            Candidate.objects.filter(document=document, run_id__in=run_ids, status=CandidateStatus.OK)
            .order_by("run_id")
            .values_list("run_id", "run__name", "values")
        ):
            drafts.append({"run": run_id, "run_name": run_name, "values": values or {}})
    gold = Gold.objects.filter(document=document).select_related("updated_by").first()
    return {
        "document": document,
        "categories": list(Category.objects.filter(project_id=document.project_id).order_by("order")),
        "annotations": [
            {
                "id": a.pk,
                "assignment": a.assignment_id,
                "annotator": a.assignment.annotator.username,
                "values": a.values,
                "judgements": a.judgements,
                "spans": a.spans,
                "draft": a.draft,
                "source": a.source,
                "version": a.version,
                "submitted_at": a.assignment.submitted_at,
                "time_spent_seconds": a.assignment.time_spent_seconds,
            }
            for a in annotations
        ],
        "drafts": drafts,
        "gold": gold,
        "gold_values": gold.values if gold else None,
        "gold_version": gold.version if gold else None,
    }


def annotations_list(
    *, project: Project, user, document: int | None = None, annotator: str = "", status: str = ""
) -> QuerySet[Annotation]:
    """Annotations as the API lists them: annotators only their own."""
    qs = Annotation.objects.filter(assignment__project=project).select_related(
        "assignment__annotator", "assignment__document"
    )
    qs = qs.defer("assignment__document__text", "assignment__document__content_hash", "assignment__document__metadata")
    if not sees_all_work(_role(user=user, project=project)):
        qs = qs.filter(assignment__annotator=user)
    if document is not None:
        qs = qs.filter(assignment__document_id=document)
    if annotator:
        qs = qs.filter(assignment__annotator__username=annotator)
    if status:
        qs = qs.filter(assignment__status=status)
    return qs.order_by("id")


def annotation_for_user(*, user, project: Project, pk: int) -> Annotation:
    """One annotation: annotators only their own (404 for others')."""
    row = annotations_list(project=project, user=user).filter(pk=pk).first()
    if row is None:
        raise NotFound(f"annotation {pk} does not exist in project {project.slug!r} or is not yours")
    return row


def annotation_history(*, annotation: Annotation) -> QuerySet[AnnotationRevision]:
    return annotation.revisions.select_related("user").order_by("version")


def gold_history(*, document: Document) -> QuerySet[GoldRevision]:
    return GoldRevision.objects.filter(document=document).select_related("user").order_by("version")


def review_document_get(*, user, project: Project, pk: int) -> Document:
    """A document for review/adjudication: reviewers, researchers and staff (403 for
    annotators); 404 when it is not in the project."""
    if not can_view_documents(_role(user=user, project=project)):
        raise PermissionDenied("annotators never see review, gold or other annotators' work")
    doc = Document.objects.filter(project=project, pk=pk).select_related("project", "translation_of").first()
    if doc is None:
        raise NotFound(f"document {pk} does not exist in project {project.slug!r}")
    return doc


def access_log_list(
    *, project: Project, user: str = "", document: int | None = None, action: str = ""
) -> QuerySet[AccessLog]:
    qs = AccessLog.objects.filter(project=project).select_related("user", "document")
    qs = qs.defer("document__text", "document__content_hash", "document__metadata")
    if user:
        qs = qs.filter(user__username=user)
    if document is not None:
        qs = qs.filter(document_id=document)
    if action:
        qs = qs.filter(action=action)
    return qs.order_by("-at", "-id")


def annotation_settings_get(*, project: Project) -> AnnotationSettings:
    """The project's settings; the defaults (unsaved) when it has none yet."""
    return AnnotationSettings.objects.filter(project=project).select_related("prefill_run").first() or (
        AnnotationSettings(project=project)
    )


def annotators_of(*, project: Project) -> list:
    """Members with the annotator role, by username (whom assignments usually go to)."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(memberships__project=project, memberships__role=Role.ANNOTATOR)
        .order_by("username")
    )

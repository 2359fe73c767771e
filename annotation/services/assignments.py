"""Assignments: documents given to annotators (issue 4, "Roles and assignment").

A researcher assigns with an overlap k (each document to k distinct annotators), balanced
across annotators and reproducible with a seed; annotators may instead pull the next
document from a queue. Withdrawing takes back only unfinished work: submitted
annotations are never touched. Assignment writes of one project take turns (the
project's row lock), so concurrent pulls never give a document to more than k people.
"""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from elmtex_site.errors import ApplicationError, NotFound, PermissionDenied, Problem

from ..models import (
    AnnotationSettings,
    Assignment,
    AssignmentStatus,
    Document,
    Membership,
    PrefillMode,
    Project,
)
from .imports import project_lock

logger = logging.getLogger(__name__)

# Statuses that count towards a document's overlap: someone is on it or has finished it.
ACTIVE_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED)
OPEN_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)
MAX_OVERLAP = 20


def _members_check(*, project: Project, annotators: list) -> None:
    members = set(
        Membership.objects.filter(project=project, user__in=[a.pk for a in annotators]).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [a.username for a in annotators if a.pk not in members]
    if outsiders:
        raise ApplicationError(
            f"not members of project {project.slug!r}: {', '.join(outsiders)}; add them first with add_member",
            problems=[Problem(f"{name} is not a member of the project", field="annotators") for name in outsiders],
        )


def draft_run_default(*, project: Project):
    """The run whose candidates pre-fill new assignments (AnnotationSettings), or None."""
    settings_row = AnnotationSettings.objects.filter(project=project).first()
    if settings_row and settings_row.prefill == PrefillMode.RUN:
        return settings_row.prefill_run
    return None


def _documents_select(
    *,
    project: Project,
    split: str | None,
    language: str | None,
    external_ids: list[str] | None,
    document_ids: list[int] | None,
) -> list[int]:
    qs = Document.objects.filter(project=project)
    if split:
        qs = qs.filter(split=split)
    if language:
        qs = qs.filter(language=language)
    if external_ids is not None:
        wanted = [str(e).strip() for e in external_ids if str(e).strip()]
        qs = qs.filter(external_id__in=wanted)
        found = set(qs.values_list("external_id", flat=True))
        missing = [e for e in dict.fromkeys(wanted) if e not in found]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:20]) + (
                f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            )
            raise ApplicationError(
                f"unknown patient_id(s) in project {project.slug!r}"
                f"{' (language ' + language + ')' if language else ''}: {shown}; nothing was assigned",
                problems=[Problem(f"unknown patient_id {m!r}", field="external_ids") for m in missing[:20]],
                total=len(missing),
            )
    if document_ids is not None:
        wanted_ids = list(dict.fromkeys(int(i) for i in document_ids))
        qs = qs.filter(pk__in=wanted_ids)
        found_ids = set(qs.values_list("pk", flat=True))
        missing_ids = [i for i in wanted_ids if i not in found_ids]
        if missing_ids:
            raise ApplicationError(
                f"documents not in project {project.slug!r} (or not matching the filters): "
                f"{', '.join(map(str, missing_ids[:20]))}; nothing was assigned",
                problems=[Problem(f"unknown document {i}", field="document_ids") for i in missing_ids[:20]],
                total=len(missing_ids),
            )
    return list(qs.order_by("id").values_list("id", flat=True))


def _draft_run_check(*, project: Project, draft_run) -> None:
    if draft_run is not None and draft_run.project_id != project.pk:
        raise ApplicationError(
            f"run {draft_run.pk} belongs to another project; choose a run of {project.slug!r}", status=400
        )


@transaction.atomic
def assignments_create(
    *,
    project: Project,
    annotators: list,
    overlap: int = 1,
    seed: int = 0,
    split: str | None = None,
    language: str | None = None,
    external_ids: list[str] | None = None,
    document_ids: list[int] | None = None,
    draft_run=None,
    assigned_by=None,
) -> dict:
    """Give each selected document to ``overlap`` distinct annotators.

    A document's existing assignments that are assigned, in progress or submitted count
    towards its overlap, so running this again tops up instead of doubling. Each
    document goes to the least loaded eligible annotators (load = their active
    assignments in the project), ties broken by a generator seeded with ``seed``: the
    same inputs give the same assignments. An annotator who skipped a document is not
    given it again; a withdrawn assignment of the same pair is re-opened.

    Returns ``{"created", "reopened", "documents", "per_annotator": {username: n}}``
    (``per_annotator``: assignments given in this call; ``documents``: documents that got
    at least one).
    """
    annotators = sorted({a.pk: a for a in annotators}.values(), key=lambda a: a.username)
    if not annotators:
        raise ApplicationError("no annotators given; name at least one project member", status=400)
    if not isinstance(overlap, int) or overlap < 1 or overlap > MAX_OVERLAP:
        raise ApplicationError(f"overlap must be a whole number from 1 to {MAX_OVERLAP}, got {overlap!r}")
    if overlap > len(annotators):
        raise ApplicationError(
            f"overlap {overlap} needs at least {overlap} annotators, got {len(annotators)}; "
            "name more annotators or lower the overlap"
        )
    _members_check(project=project, annotators=annotators)
    if draft_run is None:
        draft_run = draft_run_default(project=project)
    _draft_run_check(project=project, draft_run=draft_run)
    project_lock(project)
    doc_ids = _documents_select(
        project=project, split=split, language=language, external_ids=external_ids, document_ids=document_ids
    )
    ann_ids = [a.pk for a in annotators]
    # (document, annotator) -> status of the existing row, for the selected documents.
    existing: dict[int, dict[int, str]] = defaultdict(dict)
    for doc_id, user_id, status in Assignment.objects.filter(project=project, document_id__in=doc_ids).values_list(
        "document_id", "annotator_id", "status"
    ):
        existing[doc_id][user_id] = status
    load = Counter(
        dict(
            Assignment.objects.filter(project=project, annotator_id__in=ann_ids, status__in=ACTIVE_STATUSES)
            .values("annotator_id")
            .annotate(n=Count("id"))
            .values_list("annotator_id", "n")
        )
    )
    rng = random.Random(seed)
    new_rows: list[Assignment] = []
    reopen_ids: list[tuple[int, int]] = []
    given: Counter = Counter()
    documents = 0
    for doc_id in doc_ids:
        rows = existing.get(doc_id, {})
        active = sum(1 for s in rows.values() if s in ACTIVE_STATUSES)
        need = overlap - active
        if need <= 0:
            continue
        eligible = [uid for uid in ann_ids if uid not in rows or rows[uid] == AssignmentStatus.WITHDRAWN]
        # One random number per eligible annotator and document, drawn in username order.
        ranked = sorted(eligible, key=lambda uid: (load[uid], rng.random()))
        chosen = ranked[:need]
        if chosen:
            documents += 1
        for uid in chosen:
            load[uid] += 1
            given[uid] += 1
            if uid in rows:
                reopen_ids.append((doc_id, uid))
            else:
                new_rows.append(
                    Assignment(
                        project=project,
                        document_id=doc_id,
                        annotator_id=uid,
                        draft_run=draft_run,
                        assigned_by=assigned_by,
                    )
                )
    Assignment.objects.bulk_create(new_rows, batch_size=2000)
    reopened = _reopen(project=project, pairs=reopen_ids, draft_run=draft_run, assigned_by=assigned_by)
    names = {a.pk: a.username for a in annotators}
    result = {
        "created": len(new_rows),
        "reopened": reopened,
        "documents": documents,
        "per_annotator": {names[uid]: given[uid] for uid in ann_ids},
    }
    logger.info(
        "project %s: assigned %s documents (overlap %s, seed %s): %s new, %s re-opened",
        project.pk,
        documents,
        overlap,
        seed,
        result["created"],
        reopened,
    )
    return result


def _reopen(*, project: Project, pairs: list[tuple[int, int]], draft_run, assigned_by) -> int:
    """Re-open withdrawn assignments: in progress again when a draft was kept."""
    if not pairs:
        return 0
    condition = Q()
    for doc_id, uid in pairs:
        condition |= Q(document_id=doc_id, annotator_id=uid)
    rows = list(
        Assignment.objects.filter(condition, project=project, status=AssignmentStatus.WITHDRAWN).select_related(
            "annotation"
        )
    )
    now = timezone.now()
    for row in rows:
        has_draft = hasattr(row, "annotation")
        row.status = AssignmentStatus.IN_PROGRESS if has_draft else AssignmentStatus.ASSIGNED
        row.assigned_by = assigned_by
        if not has_draft:
            row.draft_run = draft_run
        row.updated_at = now
    Assignment.objects.bulk_update(rows, ["status", "assigned_by", "draft_run", "updated_at"], batch_size=2000)
    return len(rows)


def _active_count_subquery() -> Coalesce:
    counted = (
        Assignment.objects.filter(document=OuterRef("pk"), status__in=ACTIVE_STATUSES)
        .order_by()
        .values("document")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@transaction.atomic
def assignment_next(*, project: Project, annotator, overlap: int = 1, language: str | None = None) -> Assignment | None:
    """The annotator's oldest open assignment; else a new one on the first document
    (by id) with fewer than ``overlap`` active assignments that this annotator has not
    had (a withdrawn one of theirs is re-opened). None when the queue is empty."""
    if not isinstance(overlap, int) or overlap < 1 or overlap > MAX_OVERLAP:
        raise ApplicationError(f"overlap must be a whole number from 1 to {MAX_OVERLAP}, got {overlap!r}")
    if not Membership.objects.filter(project=project, user=annotator).exists():
        raise PermissionDenied(
            f"only members of project {project.slug!r} take documents from its queue; "
            "add yourself with add_member (role annotator)"
        )
    project_lock(project)
    mine = Assignment.objects.filter(project=project, annotator=annotator)
    current = mine.filter(status__in=OPEN_STATUSES).order_by("created_at", "id").first()
    if current is not None:
        return current
    had = Assignment.objects.filter(document=OuterRef("pk"), annotator=annotator).exclude(
        status=AssignmentStatus.WITHDRAWN
    )
    candidates = Document.objects.filter(project=project)
    if language:
        candidates = candidates.filter(language=language)
    doc_id = (
        candidates.annotate(active=_active_count_subquery())
        .filter(active__lt=overlap)
        .exclude(Exists(had))
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if doc_id is None:
        return None
    draft_run = draft_run_default(project=project)
    row = mine.filter(document_id=doc_id).first()
    if row is not None:  # withdrawn before: re-open it
        _reopen(project=project, pairs=[(doc_id, annotator.pk)], draft_run=draft_run, assigned_by=annotator)
        row.refresh_from_db()
        return row
    return Assignment.objects.create(
        project=project, document_id=doc_id, annotator=annotator, draft_run=draft_run, assigned_by=annotator
    )


@transaction.atomic
def assignments_withdraw(*, project: Project, assignment_ids: list[int] | None = None, annotator=None, by=None) -> int:
    """Take back assignments that are not finished (assigned or in progress): by id, or
    all of one annotator's. Submitted and skipped ones are kept as they are, and so is
    any draft saved on a withdrawn one. Returns how many were withdrawn."""
    if assignment_ids is None and annotator is None:
        raise ApplicationError("name the assignments to withdraw (ids) or an annotator", status=400)
    qs = Assignment.objects.filter(project=project, status__in=OPEN_STATUSES)
    if assignment_ids is not None:
        ids = [int(i) for i in assignment_ids]
        unknown = set(ids) - set(Assignment.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
        if unknown:
            raise NotFound(
                f"assignments not in project {project.slug!r}: {', '.join(map(str, sorted(unknown)))}; nothing was withdrawn",
                field="assignment_ids",
            )
        qs = qs.filter(pk__in=ids)
    if annotator is not None:
        qs = qs.filter(annotator=annotator)
    count = qs.update(status=AssignmentStatus.WITHDRAWN, updated_at=timezone.now())
    logger.info("project %s: %s assignments withdrawn by user %s", project.pk, count, getattr(by, "pk", None))
    return count

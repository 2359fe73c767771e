"""Annotations: the annotator's work on one assignment (issue 4, "The annotation form").

Saves use optimistic locking: the client names the ``version`` it started from, and a
save from an outdated version is refused with a 409 naming who changed it and when, so
nothing is lost silently. Every change is recorded as an AnnotationRevision (old -> new
per field); time spent accumulates on the assignment.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from elmtex_site.errors import ApplicationError, Conflict, NotFound, Problem

from ..models import (
    AccessAction,
    Annotation,
    AnnotationRevision,
    Assignment,
    AssignmentStatus,
)
from ..pipeline.annotations import (
    content_judgements,
    content_spans,
    judgements_check,
    spans_check,
    values_check,
    values_complete,
)
from .access import access_record

logger = logging.getLogger(__name__)

MAX_TIME_PER_SAVE = 24 * 3600.0
MAX_REASON_CHARS = 1000


def project_keys(project) -> tuple[str, ...]:
    return tuple(project.categories.order_by("order").values_list("key", flat=True))


def draft_values(*, assignment: Assignment, keys: tuple[str, ...]) -> dict:
    """The draft shown to the annotator: the assignment's run's ``ok`` candidate (schema
    keys only), or {} when there is no run or no usable candidate."""
    if not assignment.draft_run_id:
        return {}
    from inference.models import Candidate, CandidateStatus

    values = (
        Candidate.objects.filter(run_id=assignment.draft_run_id, document_id=assignment.document_id)
        .filter(status=CandidateStatus.OK)
        .values_list("values", flat=True)
        .first()
    )
    if not isinstance(values, dict):
        return {}
    return {k: str(values[k]) for k in keys if values.get(k) is not None}


def _annotator_check(*, assignment: Assignment, user) -> None:
    # Others' assignments do not exist for an annotator (blinding): 404, not 403.
    if assignment.annotator_id != user.pk:
        raise NotFound(f"assignment {assignment.pk} does not exist or is not yours")


def annotation_open(*, assignment: Assignment, user) -> Annotation:
    """The annotation of the user's own assignment, created on first open with the draft
    (pre-filled values, or empty fields when the assignment has no draft run). Logs a view."""
    _annotator_check(assignment=assignment, user=user)
    annotation = Annotation.objects.filter(assignment=assignment).first()
    if annotation is None:
        keys = project_keys(assignment.project)
        draft = draft_values(assignment=assignment, keys=keys)
        annotation, _ = Annotation.objects.get_or_create(
            assignment=assignment, defaults={"draft": draft, "values": {k: draft.get(k, "") for k in keys}}
        )
    access_record(
        user=user,
        project=assignment.project,
        action=AccessAction.VIEW,
        document=assignment.document,
        detail=f"assignment {assignment.pk}",
    )
    return annotation


def conflict_message(*, annotation: Annotation) -> str:
    last = annotation.revisions.select_related("user").order_by("-version").first()
    who = last.user.username if last and last.user_id else "someone"
    when = (last.created_at if last else annotation.updated_at).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"this annotation was changed by {who} at {when} (version {annotation.version}); "
        "reload to see their changes — nothing was saved"
    )


def _raise_problems(problems: list[tuple[str, str]], what: str) -> None:
    if problems:
        items = [Problem(message, field=path or None) for path, message in problems]
        first = items[0].format()[len("error: ") :]
        summary = first if len(items) == 1 else f"{len(items)} problems; the first: {first}"
        raise ApplicationError(f"{what} refused, nothing was saved: {summary}", problems=items)


def annotation_changes(*, old: dict, new: dict, prefix: str) -> dict:
    """``{"<prefix>.<key>": [old, new]}`` for every key whose value differs."""
    changes = {}
    for key in dict.fromkeys([*old, *new]):
        if old.get(key) != new.get(key):
            changes[f"{prefix}.{key}"] = [old.get(key), new.get(key)]
    return changes


def _merged(current: dict, given: dict, *, drop_empty: bool) -> dict:
    out = dict(current)
    for key, value in given.items():
        if drop_empty and not value:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@transaction.atomic
def annotation_save(
    *,
    assignment: Assignment,
    user,
    version: int,
    values: dict,
    judgements: dict,
    spans: dict,
    time_spent_seconds: float = 0,
    submit: bool = False,
) -> Annotation:
    """Save a draft (autosave) or submit. The dicts are merged into what is stored: keys
    left out keep their value; a judgement of null/"" or spans of null/[] clear that
    field. On submit, blank values become ``N/A`` (as in imported gold).

    Conflict (409) when ``version`` is not the stored version; ApplicationError (400)
    naming each bad field; nothing is saved then. The version goes up only when
    something changed; time spent is added either way.
    """
    _annotator_check(assignment=assignment, user=user)
    assignment = Assignment.objects.select_for_update().select_related("document", "project").get(pk=assignment.pk)
    if assignment.status == AssignmentStatus.WITHDRAWN:
        raise ApplicationError(
            f"assignment {assignment.pk} was withdrawn by a researcher; your saved draft is kept, "
            "but it cannot be changed — ask the researcher to re-assign it"
        )
    annotation = Annotation.objects.select_for_update().filter(assignment=assignment).first()
    if annotation is None:
        annotation_open(assignment=assignment, user=user)
        annotation = Annotation.objects.select_for_update().get(assignment=assignment)
    if isinstance(version, bool) or not isinstance(version, int) or version != annotation.version:
        raise Conflict(conflict_message(annotation=annotation), field="version")

    keys = project_keys(assignment.project)
    problems = []
    clean_values, found = values_check(values if values is not None else {}, keys)
    problems += found
    clean_judgements, found = judgements_check(judgements if judgements is not None else {}, keys)
    problems += found
    clean_spans, found = spans_check(
        spans if spans is not None else {}, keys, text_length=len(assignment.document.text)
    )
    problems += found
    try:
        seconds = float(time_spent_seconds or 0)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= MAX_TIME_PER_SAVE:
        problems.append(("time_spent_seconds", f"expected a number of seconds from 0 to {MAX_TIME_PER_SAVE:.0f}"))
    _raise_problems(problems, "save")

    new_values = {k: v for k, v in _merged(annotation.values, clean_values, drop_empty=False).items()}
    new_values = {k: ("" if v is None else v) for k, v in new_values.items()}
    if submit:
        new_values, _ = values_complete(new_values, keys)
    new_judgements = content_judgements(_merged(annotation.judgements, clean_judgements, drop_empty=True), keys)
    new_spans = content_spans(_merged(annotation.spans, clean_spans, drop_empty=True), keys)

    old_status = assignment.status
    if submit:
        new_status = AssignmentStatus.SUBMITTED
    elif old_status in (AssignmentStatus.ASSIGNED, AssignmentStatus.SKIPPED):
        new_status = AssignmentStatus.IN_PROGRESS
    else:
        new_status = old_status  # a submitted annotation stays submitted when corrected
    changes = {
        **annotation_changes(old=annotation.values, new=new_values, prefix="values"),
        **annotation_changes(old=annotation.judgements, new=new_judgements, prefix="judgements"),
        **annotation_changes(old=annotation.spans, new=new_spans, prefix="spans"),
    }
    if new_status != old_status:
        changes["status"] = [old_status, new_status]
    now = timezone.now()
    if changes:
        annotation.values, annotation.judgements, annotation.spans = new_values, new_judgements, new_spans
        annotation.version += 1
        annotation.save(update_fields=["values", "judgements", "spans", "version", "updated_at"])
        AnnotationRevision.objects.create(annotation=annotation, version=annotation.version, changes=changes, user=user)
    assignment.status = new_status
    assignment.time_spent_seconds += seconds
    if submit and old_status != AssignmentStatus.SUBMITTED:
        assignment.submitted_at = now
    if new_status != AssignmentStatus.SKIPPED:
        assignment.skip_reason = ""
    assignment.save(update_fields=["status", "time_spent_seconds", "submitted_at", "skip_reason", "updated_at"])
    access_record(
        user=user,
        project=assignment.project,
        action=AccessAction.SUBMIT if submit else AccessAction.SAVE,
        document=assignment.document,
        detail=f"assignment {assignment.pk} annotation {annotation.pk} version {annotation.version}",
    )
    if submit:
        _checks_annotation(annotation)
    return annotation


def _checks_annotation(annotation: Annotation) -> None:
    """Run H's automated checks on a submitted annotation, when that module exists. A
    failing check must not lose the annotation: it runs in a savepoint and is logged."""
    try:
        from . import checks
    except ImportError:
        return
    run = getattr(checks, "checks_annotation_run", None)
    if run is None:
        return
    try:
        with transaction.atomic():
            run(annotation=annotation)
    except Exception:  # noqa: BLE001 - checks are advisory; the saved work comes first
        logger.exception("checks on annotation %s failed", annotation.pk)


@transaction.atomic
def assignment_skip(*, assignment: Assignment, user, reason: str) -> Assignment:
    """Skip an assignment with a reason (kept on it). Submitted or withdrawn ones cannot be skipped."""
    _annotator_check(assignment=assignment, user=user)
    assignment = Assignment.objects.select_for_update().select_related("document", "project").get(pk=assignment.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(
            "give a reason for skipping (e.g. 'not a case report')",
            problems=[Problem("give a reason for skipping", field="reason")],
        )
    if len(reason) > MAX_REASON_CHARS:
        raise ApplicationError(
            f"reason: longer than {MAX_REASON_CHARS} characters",
            problems=[Problem(f"longer than {MAX_REASON_CHARS} characters", field="reason")],
        )
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise ApplicationError(f"assignment {assignment.pk} is already submitted; it cannot be skipped")
    if assignment.status == AssignmentStatus.WITHDRAWN:
        raise ApplicationError(f"assignment {assignment.pk} was withdrawn by a researcher; nothing to skip")
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skip_reason = reason
    assignment.save(update_fields=["status", "skip_reason", "updated_at"])
    access_record(
        user=user,
        project=assignment.project,
        action=AccessAction.SKIP,
        document=assignment.document,
        detail=f"assignment {assignment.pk}",
    )
    return assignment


def annotation_settings_update(
    *,
    project,
    prefill: str | None = None,
    prefill_run=None,
    grounding_threshold: int | None = None,
    clear_run: bool = False,
):
    """Change how the project's forms start (``prefill``: run or empty; the run whose
    candidates pre-fill new assignments) and the grounding threshold of the checks."""
    from ..models import AnnotationSettings, PrefillMode

    row, _ = AnnotationSettings.objects.get_or_create(project=project)
    if prefill is not None:
        if prefill not in PrefillMode.values:
            raise ApplicationError(
                f"prefill: expected one of {', '.join(PrefillMode.values)}, got {prefill!r}",
                problems=[Problem(f"expected one of {', '.join(PrefillMode.values)}", field="prefill")],
            )
        row.prefill = prefill
    if prefill_run is not None:
        if prefill_run.project_id != project.pk:
            raise ApplicationError(
                f"run {prefill_run.pk} belongs to another project",
                problems=[Problem("the run belongs to another project", field="prefill_run")],
            )
        row.prefill_run = prefill_run
    elif clear_run:
        row.prefill_run = None
    if grounding_threshold is not None:
        if not 0 <= grounding_threshold <= 100:
            raise ApplicationError(
                "grounding_threshold: expected 0 to 100",
                problems=[Problem("expected 0 to 100", field="grounding_threshold")],
            )
        row.grounding_threshold = grounding_threshold
    row.save()
    return row

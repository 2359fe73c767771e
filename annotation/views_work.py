"""The annotator's pages: the work queue and the annotation form (issue 4).

Reads and writes go through helper F's selectors and services (``selectors_work``,
``services.assignments``, ``services.annotations``); these views only parse the request,
call them and render. The form is a plain POST form (save / submit / skip) that works
without JavaScript; ``annotate.js`` adds autosave through the JSON API, evidence spans and
keyboard shortcuts on top of it.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from elmtex_site.errors import ApplicationError, Conflict, Problem

from .models import Annotation, AssignmentStatus, Document, Judgement
from .selectors import can_view_documents, project_for_user
from .selectors_work import (
    annotation_form_context,
    annotator_progress,
    assignment_for_user,
    assignments_for_annotator,
)
from .selectors_work_pages import queue_ids, queue_rows
from .services.annotations import annotation_open, annotation_save, assignment_skip
from .services.assignments import assignment_next
from .views import page_errors
from .work_fields import field_color, findings_for_annotation, value_text

ASSIGNMENTS_PER_PAGE = 50
OPEN_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)
# Keys 1-6 of the form's shortcuts, in this order.
JUDGEMENT_CHOICES = list(Judgement.choices)


@login_required
@page_errors
def work_queue(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="member")
    progress = annotator_progress(project=project, user=request.user)
    # The progress counts what the queue lists (every assignment not withdrawn): the
    # paginator need not count again.
    paginator = Paginator(queue_ids(project=project, user=request.user), ASSIGNMENTS_PER_PAGE)
    paginator.count = progress["assigned"]
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = queue_rows(ids=list(page.object_list))
    assigned = progress.get("assigned") or 0
    done = progress.get("done") or 0
    context = {
        "project": project,
        "role": role,
        "page": page,
        "progress": progress,
        "percent": f"{(done / assigned * 100) if assigned else 0:.1f}",
        "open_statuses": OPEN_STATUSES,
        "form_base": reverse("work-queue", args=[project.slug]),
    }
    return render(request, "annotation/work/queue.html", context)


@login_required
@require_POST
@page_errors
def work_next(request, slug: str):
    """Open the annotator's next document: their oldest open assignment, else a new one
    pulled from the project's queue."""
    project, _ = project_for_user(user=request.user, slug=slug, need="member")
    assignment = assignment_next(project=project, annotator=request.user)
    if assignment is None:
        messages.info(request, "No documents left to annotate in this project. Ask a researcher to assign more.")
        return redirect("work-queue", slug=project.slug)
    return redirect("work-form", slug=project.slug, assignment_id=assignment.pk)


def _json_list(raw: str, *, field: str) -> list:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        message = "the evidence spans sent are not valid JSON; reload the page and attach them again"
        raise ApplicationError(f"{field}: {message}", problems=[Problem(message, field=field)]) from None
    if not isinstance(value, list):
        raise ApplicationError(f"{field}: expected a list of [start, end] pairs")
    return value


def _posted_work(request, categories) -> dict:
    """values / judgements / spans as the form posts them (one input set per category)."""
    post = request.POST
    values, judgements, spans = {}, {}, {}
    for category in categories:
        key = category.key
        values[key] = post.get(f"value-{key}", "").replace("\r\n", "\n")
        if post.get(f"judgement-{key}"):
            judgements[key] = post[f"judgement-{key}"]
        # Every key, an empty list included: an empty list clears the field's spans.
        spans[key] = _json_list(post.get(f"spans-{key}", ""), field=f"spans.{key}")
    try:
        seconds = max(0.0, min(float(post.get("time_spent_seconds") or 0), 24 * 3600))
    except ValueError:
        seconds = 0.0
    try:
        version = int(post.get("version", ""))
    except ValueError:
        raise ApplicationError("version: missing; reload the page and make your changes again") from None
    return {
        "values": values,
        "judgements": judgements,
        "spans": spans,
        "time_spent_seconds": seconds,
        "version": version,
    }


def _next_open_assignment(*, project, user, after_pk: int):
    own = assignments_for_annotator(project=project, user=user).filter(status__in=OPEN_STATUSES)
    return own.exclude(pk=after_pk).order_by("pk").first()


def _judgement_html(key: str, current: str) -> SafeString:
    """The six judgement radios of one field (built here, not in the template: 15 fields x 6
    radios is most of the page's rendering time)."""
    name = escape(f"judgement-{key}")
    parts = []
    for number, (value, label) in enumerate(JUDGEMENT_CHOICES, start=1):
        checked = " checked" if value == current else ""
        parts.append(
            f'<label class="judgement j-{value}"><input type="radio" name="{name}" value="{value}"{checked}>'
            f'<span><kbd aria-hidden="true">{number}</kbd> {escape(label)}</span></label>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - the name and labels are escaped above


def _field_rows(*, categories, annotation, draft: dict, findings: dict, posted: dict | None) -> list[dict]:
    stored = annotation if annotation is not None else Annotation()  # not opened yet: empty
    values = posted["values"] if posted else stored.values or {}
    judgements = posted["judgements"] if posted else stored.judgements or {}
    spans = posted["spans"] if posted else stored.spans or {}
    rows = []
    for i, category in enumerate(categories):
        key = category.key
        draft_value = draft.get(key)
        rows.append(
            {
                "index": i,
                "key": key,
                "label": category.label,
                "guideline": category.guideline,
                "value": value_text(values.get(key)),
                "draft": None if draft_value is None else value_text(draft_value),
                "judgement": judgements.get(key, ""),
                "judgement_html": _judgement_html(key, judgements.get(key, "")),
                "spans_json": json.dumps(spans.get(key) or []),
                "color": field_color(i),
                "findings": findings.get(key, []),
            }
        )
    return rows


def _linked_documents(form: dict) -> list[dict]:
    """The English original of a translation and the translations of an original. The page
    links them only for roles that may open documents (annotators see their assignments
    only, so they get the id and language as text)."""
    links = []
    if form.get("original") is not None:
        links.append({"relation": "Translation of", "document": form["original"]})
    links += [{"relation": "Translated as", "document": other} for other in form.get("translations") or []]
    return links


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def work_form(request, slug: str, assignment_id: int):
    project, role = project_for_user(user=request.user, slug=slug, need="member")
    assignment = assignment_for_user(user=request.user, project=project, pk=assignment_id)
    own = assignment.annotator_id == request.user.pk
    editable = own and assignment.status != AssignmentStatus.WITHDRAWN
    annotation = annotation_open(assignment=assignment, user=request.user) if own else None
    form = annotation_form_context(assignment=assignment)
    annotation = annotation or form.get("annotation")
    categories = list(form["categories"])
    document = form["document"]
    posted, error, status = None, None, 200

    if request.method == "POST":
        if not editable:
            raise ApplicationError("this assignment is not yours to change, or it was withdrawn", status=403)
        action = request.POST.get("action", "save")
        try:
            if action == "skip":
                reason = request.POST.get("skip_reason", "").strip()
                assignment_skip(assignment=assignment, user=request.user, reason=reason)
                messages.success(request, f"Skipped document {document.external_id}.")
                return _after_done(request, project=project, assignment=assignment)
            posted = _posted_work(request, categories)
            annotation_save(assignment=assignment, user=request.user, submit=action == "submit", **posted)
        except Conflict as exc:
            error, status = exc, 409
        except ApplicationError as exc:
            error, status = exc, exc.status
        else:
            if action == "submit":
                messages.success(request, f"Submitted document {document.external_id}. Thank you.")
                return _after_done(request, project=project, assignment=assignment)
            messages.success(request, "Draft saved.")
            return redirect("work-form", slug=project.slug, assignment_id=assignment.pk)

    draft = (annotation.draft if annotation is not None else None) or form.get("draft") or {}
    findings = findings_for_annotation(document=document, annotation=annotation)
    rows = _field_rows(categories=categories, annotation=annotation, draft=draft, findings=findings, posted=posted)
    context = {
        "project": project,
        "role": role,
        "assignment": assignment,
        "annotation": annotation,
        "document": document,
        "rows": rows,
        "has_draft": bool(draft),
        "editable": editable,
        "judgement_choices": JUDGEMENT_CHOICES,
        "error": error,
        "conflict": status == 409,
        "linked_documents": _linked_documents(form),
        # A translation's annotator may read the original report (text only: no gold, no
        # one else's values), to check the translated case against it.
        "original": form.get("original"),
        "original_text": (
            Document.objects.filter(pk=form["original"].pk).values_list("text", flat=True).first()
            if form.get("original") is not None
            else None
        ),
        "may_view_documents": can_view_documents(role),
        "version": annotation.version if annotation is not None else "",
        "api_url": f"/api/projects/{project.slug}/assignments/{assignment.pk}/annotation/",
        "queue_url": reverse("work-queue", args=[project.slug]),
        "page_config": {
            "apiUrl": f"/api/projects/{project.slug}/assignments/{assignment.pk}/annotation/",
            "editable": editable,
            "keys": [row["key"] for row in rows],
            "labels": {row["key"]: row["label"] for row in rows},
            "colors": {row["key"]: row["color"] for row in rows},
            "judgements": [value for value, _ in JUDGEMENT_CHOICES],
        },
    }
    return render(request, "annotation/work/form.html", context, status=status)


def _after_done(request, *, project, assignment):
    following = _next_open_assignment(project=project, user=request.user, after_pk=assignment.pk)
    if following is not None:
        return redirect("work-form", slug=project.slug, assignment_id=following.pk)
    return redirect("work-queue", slug=project.slug)

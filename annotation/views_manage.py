"""Researcher pages: assigning documents (with the project's annotation settings) and
project members (issue 4, "Roles and assignment").

Researchers and staff only (others: 403; outsiders: 404). Writes go through the
services (``services.assignments``, ``services.annotations.annotation_settings_update``,
``services.projects.member_add`` / ``member_remove``); each form posts an ``action`` and
the page redirects back with a message (post/redirect/get).
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from elmtex_site.errors import ApplicationError

from .models import AssignmentStatus, PrefillMode, Role, Split
from .selectors import project_for_user, project_languages
from .selectors_pages import project_members
from .selectors_work import annotation_settings_get, annotators_of, assignment_counts
from .services.annotations import annotation_settings_update
from .services.assignments import assignments_create, assignments_withdraw
from .services.projects import member_add, member_remove
from .views import page_errors

ACTIVE = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS, AssignmentStatus.SUBMITTED)
MAX_RUNS_LISTED = 50


def _int(post, name: str, default: int, *, low: int, high: int) -> int:
    raw = (post.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApplicationError(f"{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ApplicationError(f"{name}: expected a number from {low} to {high}, got {value}")
    return value


def _run(project, raw: str):
    if not raw:
        return None
    run = project.runs.filter(pk=raw).first() if raw.isdigit() else None
    if run is None:
        raise ApplicationError(f"run {raw!r} is not a run of project {project.slug!r}; pick one from the list")
    return run


def coverage_counts(*, project) -> list[dict]:
    """How many documents have 0, 1, 2, ... active assignments (assigned, in progress or
    submitted), and how many of them are submitted: one grouped query."""
    sql = """
        SELECT n, COUNT(*), SUM(s) FROM (
            SELECT document_id, COUNT(*) AS n,
                   SUM(CASE WHEN status = %s THEN 1 ELSE 0 END) AS s
            FROM annotation_assignment
            WHERE project_id = %s AND status IN (%s, %s, %s)
            GROUP BY document_id
        ) per_document GROUP BY n ORDER BY n
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [AssignmentStatus.SUBMITTED, project.pk, *ACTIVE])
        rows = cursor.fetchall()
    total = project.documents.count()
    covered = sum(r[1] for r in rows)
    out = [{"overlap": 0, "documents": total - covered, "submitted": 0}]
    out += [{"overlap": n, "documents": docs, "submitted": int(sub or 0)} for n, docs, sub in rows]
    return out


def _assign(request, project) -> str:
    post = request.POST
    names = post.getlist("annotators")
    if not names:
        raise ApplicationError("annotators: tick at least one annotator")
    users = list(get_user_model().objects.filter(username__in=names))
    missing = sorted(set(names) - {u.username for u in users})
    if missing:
        raise ApplicationError(f"annotators: unknown user(s) {', '.join(missing)}")
    ids_text = post.get("external_ids", "").strip()
    external_ids = [i for i in re.split(r"[\s,;]+", ids_text) if i] if ids_text else None
    result = assignments_create(
        project=project,
        annotators=users,
        overlap=_int(post, "overlap", 1, low=1, high=20),
        seed=_int(post, "seed", 0, low=0, high=2**31 - 1),
        split=post.get("split") or None,
        language=post.get("language") or None,
        external_ids=external_ids,
        draft_run=_run(project, post.get("draft_run", "")),
        assigned_by=request.user,
    )
    per = ", ".join(f"{name}: {n}" for name, n in result["per_annotator"].items())
    return (
        f"Assigned {result['documents']} document(s): {result['created']} new assignment(s), "
        f"{result['reopened']} re-opened ({per})."
    )


def _withdraw(request, project) -> str:
    username = request.POST.get("annotator", "")
    ids_text = request.POST.get("assignment_ids", "").strip()
    if not username and not ids_text:
        raise ApplicationError("withdraw: choose an annotator or give assignment ids")
    annotator = None
    if username:
        annotator = get_user_model().objects.filter(username=username).first()
        if annotator is None:
            raise ApplicationError(f"annotator: unknown user {username!r}")
    ids = None
    if ids_text:
        try:
            ids = [int(i) for i in re.split(r"[\s,;]+", ids_text) if i]
        except ValueError:
            raise ApplicationError("assignment_ids: expected whole numbers separated by spaces or commas") from None
    n = assignments_withdraw(project=project, assignment_ids=ids, annotator=annotator, by=request.user)
    return f"Withdrew {n} open assignment(s); submitted and skipped work is kept."


def _settings(request, project) -> str:
    prefill = request.POST.get("prefill", "")
    run = _run(project, request.POST.get("prefill_run", ""))
    annotation_settings_update(project=project, prefill=prefill or None, prefill_run=run, clear_run=run is None)
    return "Saved the annotation settings; they apply to assignments made from now on."


ASSIGN_ACTIONS = {"assign": _assign, "withdraw": _withdraw, "settings": _settings}


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def assign_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    if request.method == "POST":
        handler = ASSIGN_ACTIONS.get(request.POST.get("action", ""))
        if handler is None:
            raise ApplicationError("unknown action; use the page's buttons")
        try:
            messages.success(request, handler(request, project))
        except ApplicationError as exc:
            messages.error(request, f"Nothing changed: {exc.message}")
        return redirect("work-assign", slug=project.slug)
    context = {
        "project": project,
        "role": role,
        "annotators": annotators_of(project=project),
        "languages": project_languages(project=project),
        "split_choices": Split.choices,
        "runs": list(project.runs.order_by("-created_at").only("id", "name", "status", "strategy")[:MAX_RUNS_LISTED]),
        "counts": assignment_counts(project=project),
        "coverage": coverage_counts(project=project),
        "settings": annotation_settings_get(project=project),
        "prefill_choices": PrefillMode.choices,
    }
    return render(request, "annotation/work/assign.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def members_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    if request.method == "POST":
        action = request.POST.get("action", "")
        username = request.POST.get("username", "").strip()
        try:
            if not username:
                raise ApplicationError("username: give the user's login name")
            if action == "add":
                member_role = request.POST.get("role", "")
                _, created = member_add(project=project, username=username, role=member_role)
                verb = "Added" if created else "Changed the role of"
                messages.success(request, f"{verb} {username} as {member_role}.")
            elif action == "remove":
                if username == request.user.get_username():
                    raise ApplicationError("you cannot remove yourself; ask another researcher of the project")
                member_remove(project=project, username=username)
                messages.success(request, f"Removed {username} from the project; their submitted work is kept.")
            else:
                raise ApplicationError("unknown action; use the page's buttons")
        except ApplicationError as exc:
            messages.error(request, f"Nothing changed: {exc.message}")
        return redirect("work-members", slug=project.slug)
    context = {
        "project": project,
        "role": role,
        "members": project_members(project=project),
        "role_choices": Role.choices,
    }
    return render(request, "annotation/work/members.html", context)

"""Server-rendered pages: a project's runs (and starting one), a run's live progress,
configuration and candidates, cancel / resume buttons, and the endpoint list.

Rights as in the API (``apis/runs.py``): seeing runs needs the "documents" right,
starting / cancelling / resuming the "manage" right. Numbers are rendered on the server;
``run_progress.js`` only refreshes them while a run is live.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from annotation.selectors import can_manage_project, project_for_user, project_languages
from annotation.views import page_errors
from elmtex_site.errors import ApplicationError, PermissionDenied

from .forms import CandidateFilterForm, RunStartForm, form_add_problems
from .models import ModelEndpoint
from .pages import config_facts, config_sections, progress_display
from .selectors import run_get, run_progress
from .selectors_pages import (
    LIVE_STATUSES,
    can_add_endpoints,
    can_see_endpoints,
    candidate_status_counts,
    candidates_search,
    run_actions,
    runs_list,
    runs_progress,
)
from .services.runs import run_cancel, run_create, run_resume

RUNS_PER_PAGE = 25
CANDIDATES_PER_PAGE = 50


def _run_list_page(request, *, project, role, form, status: int = 200):
    page = Paginator(runs_list(project=project), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    progress = runs_progress(runs=page.object_list)
    rows = [{"run": run, "progress": progress_display(progress[run.pk])} for run in page.object_list]
    context = {
        "project": project,
        "role": role,
        "page": page,
        "rows": rows,
        "form": form,
        "may_start": form is not None,
        "live_statuses": LIVE_STATUSES,
    }
    return render(request, "inference/run_list.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def run_list(request, slug: str):
    """GET: the project's runs. POST: start a run (researchers, staff); on refusal the
    form again (400) with the problems next to the fields they concern."""
    need = "manage" if request.method == "POST" else "documents"
    project, role = project_for_user(user=request.user, slug=slug, need=need)
    languages = project_languages(project=project)
    if request.method != "POST":
        form = RunStartForm(languages=languages) if can_manage_project(role) else None
        return _run_list_page(request, project=project, role=role, form=form)
    form = RunStartForm(request.POST, languages=languages)
    if not form.is_valid():
        return _run_list_page(request, project=project, role=role, form=form, status=400)
    data = form.cleaned_data
    try:
        run = run_create(
            project=project,
            endpoint=data["endpoint"],
            strategy=data["strategy"],
            name=data["name"] or None,
            language=data["language"] or None,
            split=data["split"] or None,
            limit=data["limit"],
            k=data.get("k"),
            temperature=data.get("temperature"),
            user=request.user,
        )
    except ApplicationError as exc:
        if exc.status != 400:
            raise
        form_add_problems(form, exc)
        return _run_list_page(request, project=project, role=role, form=form, status=400)
    messages.success(request, f"Run {run.pk} ({run.name}) is queued; this page shows its progress.")
    return redirect("run-detail", project.slug, run.pk)


def _evaluation_url(slug: str) -> str | None:
    """The project's evaluation page, where the evaluation app provides one."""
    try:
        return reverse("evaluation-list", args=[slug])
    except NoReverseMatch:
        return None


@login_required
@page_errors
def run_detail(request, slug: str, pk: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    run = run_get(ref=pk, project=project)
    progress = run_progress(run=run)
    form = CandidateFilterForm(request.GET)
    status_filter = form.status_filter()
    page = Paginator(candidates_search(run=run, status=status_filter), CANDIDATES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "project": project,
        "role": role,
        "run": run,
        "progress": progress_display(progress),
        "live": progress.status in LIVE_STATUSES,
        "actions": run_actions(role=role, progress=progress),
        "facts": config_facts(run),
        "config_sections": config_sections(run.config),
        "status_counts": candidate_status_counts(progress=progress),
        "status_filter": status_filter,
        "filter_form": form,
        "page": page,
        "progress_url": reverse("api-run-progress", args=[project.slug, run.pk]),
        "evaluation_url": _evaluation_url(project.slug),
    }
    return render(request, "inference/run_detail.html", context)


def _run_action(request, slug: str, pk: int, action, done: str):
    project, _ = project_for_user(user=request.user, slug=slug, need="manage")
    run = run_get(ref=pk, project=project)
    try:
        run = action(run=run, user=request.user)
    except ApplicationError as exc:
        if exc.status != 400:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(run=run))
    return redirect("run-detail", project.slug, run.pk)


@login_required
@require_POST
@page_errors
def run_cancel_page(request, slug: str, pk: int):
    return _run_action(request, slug, pk, run_cancel, "Run {run.pk} is cancelled; pending documents stay unprocessed.")


@login_required
@require_POST
@page_errors
def run_resume_page(request, slug: str, pk: int):
    return _run_action(
        request, slug, pk, run_resume, "Run {run.pk} is resumed: documents without an ok candidate are queued again."
    )


@login_required
@page_errors
def endpoint_list(request):
    if not can_see_endpoints(request.user):
        raise PermissionDenied("only staff and the researchers or reviewers of a project may see model endpoints")
    context = {
        "endpoints": ModelEndpoint.objects.order_by("name"),
        "may_add": can_add_endpoints(request.user),
    }
    return render(request, "inference/endpoint_list.html", context)

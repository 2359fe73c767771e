"""Pages of gold export jobs and split assignment. Researchers and staff only
(``need="manage"``): annotators and reviewers get 403, outsiders 404.

The export list follows running jobs without JavaScript: while a job is queued or
running the page reloads itself every few seconds (a ``Refresh`` header and a meta
refresh), showing a ``<progress>`` bar per job. A failed or stalled job has a Retry
button (a POST to its detail page, ``action=retry``); an expired one says when its file
was removed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from elmtex_site.errors import ApplicationError

from .models import ExportStatus, Split
from .selectors import project_counts, project_for_user, project_languages
from .selectors_pages import counts_matrix
from .services.export_jobs import (
    export_job_create,
    export_job_delete,
    export_job_file,
    export_job_get,
    export_job_progress,
    export_jobs_for_project,
)
from .services.export_jobs_upkeep import (
    export_files_expire_due,
    export_job_actions,
    export_job_expired_at,
    export_job_retry,
    export_job_status_effective,
    export_job_status_reason,
    export_keep_days,
)
from .services.exports import EXPORT_FORMATS
from .services.splits import splits_assign
from .views import page_errors

FORMAT_LABELS = {
    "jsonl": "JSON lines (.jsonl)",
    "json": "JSON array (.json)",
    "csv": "CSV (.csv)",
    "hf": "Hugging Face dataset folder (.zip)",
    "chat": "Chat fine-tuning JSON lines (.jsonl)",
}
CONTENT_TYPES = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "chat": "application/x-ndjson; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "hf": "application/zip",
}
# Seconds between reloads of the export pages while a job is queued or running.
REFRESH_SECONDS = 3
JOBS_PER_PAGE = 25
ACTIVE = (ExportStatus.QUEUED, ExportStatus.RUNNING)
ERROR_TITLES = {409: "Not possible now", 410: "Export file expired"}


class ExportJobForm(forms.Form):
    format = forms.ChoiceField(label="Format", initial="jsonl")
    language = forms.ChoiceField(label="Language", required=False)
    split = forms.ChoiceField(label="Split", required=False, choices=[("", "any"), *((s, s) for s in Split.values)])
    only_adjudicated = forms.BooleanField(label="Only adjudicated gold", required=False)
    min_agreement = forms.CharField(
        label="Minimum agreement",
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        help_text="Only documents whose annotators agree on at least this share of the categories (0 to 1).",
    )
    with_metadata = forms.BooleanField(label="With document metadata", required=False, help_text="jsonl and json only.")
    tokenizer = forms.CharField(
        label="Tokenizer folder",
        required=False,
        help_text="chat only: a local model folder whose chat template renders each record.",
    )
    max_tokens = forms.CharField(
        label="Maximum tokens",
        required=False,
        widget=forms.NumberInput(attrs={"min": "1", "step": "1"}),
        help_text="chat with a tokenizer only: longer records are skipped and counted.",
    )
    prompt_run = forms.CharField(
        label="Prompt of run",
        required=False,
        help_text="chat only: the system prompt of this run's strategy (id or name); naive by default.",
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(f, FORMAT_LABELS.get(f, f)) for f in EXPORT_FORMATS]
        self.fields["language"].choices = [("", "any"), *((lang, lang) for lang in languages)]


class SplitsForm(forms.Form):
    ratios = forms.CharField(
        label="Ratios (train, val, test)", initial="0.8,0.1,0.1", help_text="Three fractions that sum to 1."
    )
    seed = forms.IntegerField(label="Seed", initial=0, help_text="The same seed gives the same splits.")
    force = forms.BooleanField(
        label="Reassign documents that already have a split",
        required=False,
        help_text="Without it only documents without a split are assigned.",
    )


def _refusal_to_form(form: forms.Form, exc: ApplicationError) -> None:
    """Put the service's problems on the form fields they name (else on the form)."""
    for problem in exc.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message if field else exc.message)


def _job_row(job) -> dict:
    """A job as the pages show it; ``status`` is the effective one (``stalled`` included)."""
    status = export_job_status_effective(job)
    return {
        "job": job,
        "status": status,
        "reason": export_job_status_reason(job, status),
        "actions": export_job_actions(job, status),
        "expired_at": export_job_expired_at(job),
        "progress": export_job_progress(job),
        "records": (job.manifest or {}).get("records"),
        "active": status in ACTIVE,
    }


def _refused(request, exc: ApplicationError):
    """The error page with the refusal's own status (409, 410), which the shared one maps to 400."""
    context = {"title": ERROR_TITLES.get(exc.status, "Request refused"), "message": exc.message, "status": exc.status}
    return render(request, "annotation/error.html", context, status=exc.status)


def _with_refresh(response, active: bool):
    if active:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def export_list(request, slug: str):
    """GET: the form and the project's export jobs. POST: start a job, back to the list."""
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    languages = project_languages(project=project)
    status = 200
    if request.method == "POST":
        form = ExportJobForm(request.POST, languages=languages)
        if form.is_valid():
            options = {k: v for k, v in form.cleaned_data.items() if k != "format"}
            try:
                job = export_job_create(
                    project=project, user=request.user, fmt=form.cleaned_data["format"], options=options
                )
            except ApplicationError as exc:
                _refusal_to_form(form, exc)
            else:
                if job.status == ExportStatus.FAILED:
                    messages.error(request, f"Export {job.pk} could not be started: {job.error}")
                else:
                    messages.success(request, f"Export {job.pk} queued; this page follows its progress.")
                return redirect("export-list", slug=project.slug)
        status = 400
    else:
        form = ExportJobForm(languages=languages)
        export_files_expire_due()
    page = Paginator(export_jobs_for_project(project=project), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [_job_row(job) for job in page.object_list]
    active = any(row["active"] for row in rows)
    context = {
        "project": project,
        "role": role,
        "form": form,
        "page": page,
        "rows": rows,
        "active": active,
        "refresh_seconds": REFRESH_SECONDS,
    }
    return _with_refresh(render(request, "annotation/exports/list.html", context, status=status), active)


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def export_detail(request, slug: str, pk: int):
    """GET: one job with its manifest. POST ``action=delete``: delete it and its file;
    ``action=retry``: queue a failed or stalled job again (back to the list with
    ``next=list``)."""
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    job = export_job_get(project=project, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "retry":
            try:
                job = export_job_retry(job=job)
            except ApplicationError as exc:
                return _refused(request, exc)
            if job.status == ExportStatus.FAILED:
                messages.error(request, f"Export {pk} could not be queued again: {job.error}")
            else:
                messages.success(request, f"Export {pk} queued again; this page follows its progress.")
            if request.POST.get("next") == "list":
                return redirect("export-list", slug=project.slug)
            return redirect("export-detail", slug=project.slug, pk=pk)
        if action != "delete":
            raise ApplicationError("action: expected delete or retry")
        export_job_delete(job=job)
        messages.success(request, f"Export {pk} and its file were deleted.")
        return redirect("export-list", slug=project.slug)
    row = _job_row(job)
    manifest = job.manifest or {}
    context = {
        "project": project,
        "role": role,
        "row": row,
        "job": job,
        "manifest": manifest,
        "files": manifest.get("files") or [],
        "skipped": manifest.get("skipped") or {},
        "download": manifest.get("download"),
        "options": {k: v for k, v in (job.options or {}).items() if v not in (None, False, "")},
        "active": row["active"],
        "refresh_seconds": REFRESH_SECONDS,
        "keep_days": export_keep_days(),
    }
    return _with_refresh(render(request, "annotation/exports/detail.html", context), row["active"])


def export_file_response(job) -> FileResponse:
    """The finished file of ``job`` as an attachment (streamed from disk)."""
    path = export_job_file(job)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=job.file_name)  # noqa: SIM115 - closed by Django
    response["Content-Type"] = CONTENT_TYPES.get(job.format, "application/octet-stream")
    return response


@login_required
@require_GET
@page_errors
def export_download(request, slug: str, pk: int):
    project, _ = project_for_user(user=request.user, slug=slug, need="manage")
    job = export_job_get(project=project, pk=pk)
    if job.status != ExportStatus.DONE:
        status = export_job_status_effective(job)
        message = f"export {job.pk} is {status}; download it when it is done"
        if status in (ExportStatus.FAILED, "stalled"):
            message = f"export {job.pk} is {status}: {export_job_status_reason(job, status)}"
        context = {"title": "Not ready", "message": message, "status": 409}
        return render(request, "annotation/error.html", context, status=409)
    try:
        return export_file_response(job)
    except ApplicationError as exc:
        if exc.status == 410:
            return _refused(request, exc)
        raise


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def splits_page(request, slug: str):
    """GET: the split counts and the form. POST: assign splits (``assign_splits``)."""
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    status = 200
    if request.method == "POST":
        form = SplitsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = splits_assign(project=project, ratios=data["ratios"], seed=data["seed"], force=data["force"])
            except ApplicationError as exc:
                _refusal_to_form(form, exc)
            else:
                messages.success(request, result.line()[0].upper() + result.line()[1:] + ".")
                return redirect("splits-assign", slug=project.slug)
        status = 400
    else:
        form = SplitsForm()
    context = {
        "project": project,
        "role": role,
        "form": form,
        "counts": counts_matrix(project_counts(project=project)),
    }
    return render(request, "annotation/exports/splits.html", context, status=status)

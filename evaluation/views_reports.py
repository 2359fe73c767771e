"""Report pages: the hub, error analysis, agreement overview and dataset overview.

Researchers and staff only (``need="manage"``): annotators and reviewers get 403,
outsiders 404. Every report page downloads the same report with ``?format=csv|json|md|tex``
(and ``table=KEY`` for one table); bad parameters give an error page naming them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from annotation.models import Split
from annotation.selectors import project_for_user, project_languages
from annotation.views import page_errors
from elmtex_site.errors import ApplicationError, Problem
from inference.models import ModelRun

from .report_tables import REPORT_FORMATS, Report, report_response
from .services.report_agreement import agreement_overview_report
from .services.report_dataset import dataset_report
from .services.report_errors import errors_report, report_runs_resolve

# (kind, page URL name, API URL name, title, what it shows)
REPORTS = (
    (
        "compare",
        "report-compare",
        "api-report-compare",
        "Model comparison",
        "Runs x categories x metrics with 95% CIs, significance against a reference run, and charts.",
    ),
    (
        "errors",
        "report-errors",
        "api-report-errors",
        "Error analysis",
        "Per run and category: the annotators' judgements of the drafts, check findings, example documents.",
    ),
    (
        "agreement",
        "report-agreement",
        "api-report-agreement",
        "Agreement",
        "Inter-annotator agreement per category (latest agreement report) and annotator throughput.",
    ),
    (
        "dataset",
        "report-dataset",
        "api-report-dataset",
        "Dataset overview",
        "Documents per split and language, gold coverage (N/A share), gold origin, annotation progress.",
    ),
)


def url_or_none(name: str, slug: str) -> str | None:
    """The URL of a page another part of the platform may or may not provide yet."""
    try:
        return reverse(name, args=[slug])
    except NoReverseMatch:
        return None


def reports_available(*, slug: str) -> list[dict]:
    """The reports of a project with their page and API URLs (those that exist)."""
    out = []
    for kind, page, api, title, description in REPORTS:
        page_url, api_url = url_or_none(page, slug), url_or_none(api, slug)
        if page_url or api_url:
            out.append(
                {"kind": kind, "title": title, "description": description, "page_url": page_url, "api_url": api_url}
            )
    return out


def report_format(value: str | None) -> str | None:
    """The download format asked for (None: the page); refuses an unknown one before any
    report is built."""
    value = (value or "").strip()
    if not value:
        return None
    if value not in REPORT_FORMATS:
        message = f"expected one of {', '.join(REPORT_FORMATS)}, got {value!r}"
        raise ApplicationError(f"format: {message}", problems=[Problem(message, field="format")])
    return value


def _downloads(request) -> list[tuple[str, str]]:
    links = []
    for fmt in REPORT_FORMATS:
        query = request.GET.copy()
        query["format"] = fmt
        query.pop("table", None)
        links.append((fmt, f"?{query.urlencode()}"))
    return links


def _report_page(request, *, project, role, report: Report, fmt: str | None, template: str, **context):
    if fmt is not None:
        table = (request.GET.get("table") or "").strip() or None
        return report_response(report, fmt, filename=f"{project.slug}-{report.kind}", table_key=table)
    context |= {
        "project": project,
        "role": role,
        "report": report,
        "downloads": _downloads(request),
        "hub_url": reverse("report-hub", args=[project.slug]),
    }
    return render(request, template, context)


def _selection_context(request, project) -> dict:
    return {
        "languages": project_languages(project=project),
        "splits": Split.values,
        "language": request.GET.get("language", ""),
        "split": request.GET.get("split", ""),
    }


@login_required
@require_GET
@page_errors
def report_hub_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    context = {
        "project": project,
        "role": role,
        "reports": reports_available(slug=project.slug),
        "exports_url": url_or_none("export-list", project.slug),
        "agreement_url": reverse("agreement-list", args=[project.slug]),
        "api_url": reverse("api-report-list", args=[project.slug]),
    }
    return render(request, "evaluation/reports/hub.html", context)


@login_required
@require_GET
@page_errors
def report_errors_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    fmt = report_format(request.GET.get("format"))
    runs_text = ",".join(request.GET.getlist("runs"))
    runs = report_runs_resolve(project=project, text=runs_text)
    report = errors_report(
        project=project, runs=runs, language=request.GET.get("language"), split=request.GET.get("split")
    )
    chosen = {str(run.pk) for run in runs or []}
    all_runs = [
        {"id": run.pk, "name": run.name, "selected": str(run.pk) in chosen}
        for run in ModelRun.objects.filter(project=project).order_by("id").only("id", "name")
    ]
    return _report_page(
        request,
        project=project,
        role=role,
        report=report,
        fmt=fmt,
        template="evaluation/reports/errors.html",
        all_runs=all_runs,
        **_selection_context(request, project),
    )


@login_required
@require_GET
@page_errors
def report_agreement_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    fmt = report_format(request.GET.get("format"))
    report = agreement_overview_report(
        project=project, language=request.GET.get("language"), split=request.GET.get("split")
    )
    return _report_page(
        request,
        project=project,
        role=role,
        report=report,
        fmt=fmt,
        template="evaluation/reports/agreement.html",
        **_selection_context(request, project),
    )


@login_required
@require_GET
@page_errors
def report_dataset_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    fmt = report_format(request.GET.get("format"))
    report = dataset_report(project=project)
    return _report_page(
        request, project=project, role=role, report=report, fmt=fmt, template="evaluation/reports/dataset.html"
    )

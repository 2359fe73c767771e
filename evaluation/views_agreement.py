"""Inter-annotator agreement pages: the latest report per category with the list of
reports and a start button, and one report.

Same rights as the API: researchers, reviewers and staff (``need="documents"``).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from annotation.models import Split
from annotation.selectors import project_for_user
from annotation.views import page_errors

from .selectors_agreement import agreement_report_get, agreement_reports_for_project, agreement_staleness
from .services.agreement import agreement_run

REPORTS_PER_PAGE = 20
# (results key, column title, what it is)
COLUMNS = (
    ("krippendorff_alpha", "α (Krippendorff)", "nominal, missing allowed"),
    ("fleiss_kappa", "κ (Fleiss)", "documents with the most common number of annotators"),
    ("cohen_kappa_mean", "κ (Cohen, mean)", "mean over annotator pairs"),
    ("text_rougeL_mean", "ROUGE-L F", "mean pairwise between annotators"),
    ("text_entity_f1_mean", "entity F1", "mean pairwise between annotators"),
    ("annotator_vs_gold_rougeL_mean", "ROUGE-L vs gold", "mean over annotators"),
)


def _rows(results: dict, labels: dict[str, str]) -> list[dict]:
    rows = []
    for key, block in (results.get("categories") or {}).items():
        rows.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "items": block.get("items"),
                "annotators": block.get("annotators"),
                "cells": [block.get(name) for name, _, _ in COLUMNS],
                "text_items": block.get("text_items"),
                "block": block,
            }
        )
    return rows


def _report_context(project, report) -> dict:
    results = report.results or {}
    labels = dict(project.categories.order_by("order", "key").values_list("key", "label"))
    overall = results.get("overall") or {}
    return {
        "report": report,
        "results": results,
        "selection": results.get("selection") or {},
        "rows": _rows(results, labels),
        "overall": {
            "items": overall.get("items"),
            "annotators": overall.get("annotators"),
            "cells": [overall.get(name) for name, _, _ in COLUMNS],
        },
        "columns": COLUMNS,
        "stale": agreement_staleness(report=report).stale,
        "in_progress": report.status in ("queued", "running"),
        "api_url": reverse("api-agreement-detail", args=[project.slug, report.pk]),
    }


@login_required
@require_http_methods(["GET", "POST"])
@page_errors
def agreement_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    if request.method == "POST":
        report = agreement_run(
            project=project,
            user=request.user,
            language=request.POST.get("language", ""),
            split=request.POST.get("split", ""),
            asynchronous=True,
        )
        if report.status == "failed":
            messages.error(request, f"Agreement report {report.pk} could not be queued: {report.error}")
        else:
            messages.success(request, f"Agreement report {report.pk} queued for a worker.")
        return redirect("agreement-detail", slug=project.slug, pk=report.pk)
    reports = agreement_reports_for_project(project=project)
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    cache: dict = {}
    listed = [{"report": r, "stale": agreement_staleness(report=r, cache=cache).stale} for r in page.object_list]
    latest = reports.filter(status="done").first()
    context = {
        "project": project,
        "role": role,
        "page": page,
        "listed": listed,
        "latest": _report_context(project, latest) if latest else None,
        "splits": Split.values,
        "languages": list(project.documents.order_by("language").values_list("language", flat=True).distinct()),
    }
    return render(request, "evaluation/agreement_list.html", context)


@login_required
@page_errors
def agreement_detail_page(request, slug: str, pk: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    report = agreement_report_get(project=project, pk=pk)
    context = {"project": project, "role": role, **_report_context(project, report)}
    return render(request, "evaluation/agreement_detail.html", context)

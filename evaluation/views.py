"""Evaluation report pages: a project's reports, and one report's table.

Same rights as the API: researchers, reviewers and staff (``need="documents"``).
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from annotation.selectors import project_for_user
from annotation.views import page_errors

from .selectors import report_get, report_stale, reports_for_project, reports_stale

REPORTS_PER_PAGE = 50
LIST_METRICS = ("rouge1", "rouge2", "rougeL", "entity_f1")
COMPARE_METRICS = ("rouge1", "rouge2", "rougeL", "entity_f1", "bertscore_f1")


def _run_url(slug: str, run_id: int | None) -> str | None:
    """The run's page, where the inference app provides one."""
    if run_id is None:
        return None
    try:
        return reverse("run-detail", args=[slug, run_id])
    except NoReverseMatch:
        return None


def _cell(value, ci=None) -> dict:
    return {"value": value, "ci": ci}


@login_required
@page_errors
def evaluation_list(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    reports = reports_for_project(project=project)
    run_filter = request.GET.get("run", "")
    if run_filter.isdigit():
        reports = reports.filter(run_id=int(run_filter))
    page = Paginator(reports, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    stale = reports_stale(reports=page.object_list)
    for report in page.object_list:
        overall = (report.results or {}).get("overall") or {}
        rows.append(
            {
                "report": report,
                "stale": stale[report.pk],
                "scores": [overall.get(m) for m in LIST_METRICS],
                "run_url": _run_url(slug, report.run_id),
            }
        )
    context = {
        "project": project,
        "role": role,
        "page": page,
        "rows": rows,
        "metrics": LIST_METRICS,
        "run_filter": run_filter if run_filter.isdigit() else "",
    }
    return render(request, "evaluation/evaluation_list.html", context)


def _category_rows(results: dict, labels: dict[str, str]) -> list[dict]:
    rows = []
    for key, cat in (results.get("categories") or {}).items():  # schema order (report_get)
        ci = cat.get("ci") or {}
        rows.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "n": cat["n"],
                "n_entity": cat["n_entity"],
                "rouge": [_cell(cat[m], ci.get(m)) for m in ("rouge1", "rouge2", "rougeL")],
                "entity": [
                    _cell(cat["entity_p"]),
                    _cell(cat["entity_r"]),
                    _cell(cat["entity_f1"], ci.get("entity_f1")),
                ],
                "n_bertscore": cat.get("n_bertscore", 0),
                "bertscore": [
                    _cell(cat.get("bertscore_p")),
                    _cell(cat.get("bertscore_r")),
                    _cell(cat.get("bertscore_f1"), ci.get("bertscore_f1")),
                ],
            }
        )
    return rows


def _overall(overall: dict) -> dict:
    return {
        "n": overall.get("n"),
        "n_entity": overall.get("n_entity"),
        "n_bertscore": overall.get("n_bertscore"),
        "rouge": [overall.get(m) for m in ("rouge1", "rouge2", "rougeL")],
        "entity": [overall.get(m) for m in ("entity_p", "entity_r", "entity_f1")],
        "bertscore": [overall.get(m) for m in ("bertscore_p", "bertscore_r", "bertscore_f1")],
    }


def _sections(groups: dict | None, labels: dict[str, str], *, only_when_several: bool) -> list[dict]:
    """Per-language (or per-split) tables; none when one group holds every document."""
    groups = groups or {}
    if only_when_several and len(groups) < 2:
        return []
    return [
        {
            "name": name,
            "documents": section.get("documents"),
            "rows": _category_rows(section, labels),
            "overall": _overall(section.get("overall") or {}),
        }
        for name, section in groups.items()
    ]


def _compare_rows(compare: dict | None, labels: dict[str, str], metrics: tuple[str, ...]) -> list[dict]:
    if not compare:
        return []
    empty = {"delta": None}
    return [
        {"key": key, "label": labels.get(key, key), "cells": [cat.get(m, empty) for m in metrics]}
        for key, cat in compare["categories"].items()
    ]


@login_required
@page_errors
def evaluation_detail(request, slug: str, pk: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    report = report_get(project=project, pk=pk)
    results = report.results or {}
    labels = dict(project.categories.order_by("order", "key").values_list("key", "label"))
    overall = results.get("overall") or {}
    compare_metrics = COMPARE_METRICS if "bertscore" in (report.metrics or []) else COMPARE_METRICS[:4]
    context = {
        "project": project,
        "role": role,
        "report": report,
        "results": results,
        "rows": _category_rows(results, labels),
        "overall": _overall(overall),
        "bertscore": "bertscore" in (report.metrics or []),
        "stale": report_stale(report=report),
        "language_sections": _sections(results.get("languages"), labels, only_when_several=True),
        "split_sections": _sections(results.get("splits"), labels, only_when_several=True),
        "tokenizers": ((report.config or {}).get("rouge") or {}).get("tokenizers") or {},
        "matcher": ((report.config or {}).get("entity") or {}).get("matcher"),
        "compare_rows": _compare_rows(results.get("compare"), labels, compare_metrics),
        "compare_metrics": compare_metrics,
        "config_json": json.dumps(report.config, indent=2, ensure_ascii=False),
        "documents": (report.config or {}).get("documents"),
        "run_url": _run_url(slug, report.run_id),
        "compare_url": _run_url(slug, report.compare_run_id),
        "api_url": reverse("api-evaluation-detail", args=[slug, report.pk]),
    }
    return render(request, "evaluation/evaluation_detail.html", context)

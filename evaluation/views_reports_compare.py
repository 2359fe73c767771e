"""Model comparison page and its SVG charts (``report-compare``, ``report-compare-bars``,
``report-compare-heatmap``).

Researchers and staff only (``need="manage"``): annotators and reviewers get 403,
outsiders 404. The page shows the tables at once; significance markers follow when the
paired tests are cached (a computing page reloads itself with a ``Refresh`` header, no
JavaScript). ``?format=csv|json|md|tex`` downloads the same report (``table=KEY`` for one
table).

When runs have no finished evaluation of the selection the page (200) keeps the form and
lists them: never evaluated (with the ``evaluate`` command), queued or running (with
progress; the page reloads until they are done, then shows the comparison) or failed
(with the error). Its "Evaluate the missing runs" button posts to
``report-compare-evaluate``, which queues one evaluation per run that has none in progress
(``comparison_evaluate_missing``) and redirects back.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST

from annotation.models import Split
from annotation.selectors import project_for_user
from annotation.views import page_errors
from elmtex_site.errors import ApplicationError, Problem
from inference.models import ModelRun

from .charts import bars_svg, heatmap_svg
from .models import EvaluationReport, EvaluationStatus
from .report_tables import REPORT_FORMATS, report_response
from .services.comparison import (
    CHART_METRICS,
    DEFAULT_CHART_METRIC,
    MAX_RUNS,
    METRIC_LABELS,
    Comparison,
    EvaluationsMissing,
    chart_data,
    comparison_build,
    comparison_report,
    runs_resolve,
)
from .services.comparison_evaluations import comparison_evaluate_missing

REFRESH_SECONDS = 5
CHART_MAX_AGE = 3600  # chart URLs carry the reports' key (v=...), so a new evaluation gets a new URL


def comparison_query(params) -> dict:
    """The selection in a query string (a multi-select's repeated ``runs`` or ``runs=1,2,name``)."""
    runs = ",".join(v for v in params.getlist("runs") if v.strip())
    return {
        "runs": runs,
        "reference": (params.get("reference") or "").strip(),
        "language": (params.get("language") or "").strip(),
        "split": (params.get("split") or "").strip(),
        "metric": (params.get("metric") or "").strip() or DEFAULT_CHART_METRIC,
    }


def runs_from_query(*, project, query: dict) -> tuple[list[ModelRun], ModelRun | None]:
    """The compared runs and the reference (None: the first run) of a query."""
    runs = runs_resolve(project=project, text=query["runs"])
    reference = None
    if query["reference"]:
        try:
            resolved = runs_resolve(project=project, text=query["reference"])
        except ApplicationError as exc:
            message = exc.problems[0].message
            raise ApplicationError(f"reference: {message}", problems=[Problem(message, field="reference")]) from None
        if len(resolved) != 1:
            message = f"name one run (an id or a name), got {query['reference']!r}"
            raise ApplicationError(f"reference: {message}", problems=[Problem(message, field="reference")])
        reference = resolved[0]
        if reference.pk not in {r.pk for r in runs}:
            runs.append(reference)  # the reference is compared too, even when not ticked
            if len(runs) > MAX_RUNS:
                message = f"at most {MAX_RUNS} runs can be compared at once, got {len(runs)} with the reference"
                raise ApplicationError(f"runs: {message}", problems=[Problem(message, field="runs")])
    return runs, reference


def comparison_from_query(*, project, query: dict, significance: bool = True, stats: bool = True) -> Comparison:
    runs, reference = runs_from_query(project=project, query=query)
    return comparison_build(
        project=project,
        runs=runs,
        reference=reference,
        language=query["language"],
        split=query["split"],
        significance=significance,
        stats=stats,
    )


def _hub_url(slug: str) -> str | None:
    try:
        return reverse("report-hub", args=[slug])
    except NoReverseMatch:  # the reports hub is another part of the platform
        return None


def metric_check(metric: str) -> str:
    if metric not in CHART_METRICS:
        message = f"unknown metric {metric!r}; choose from {', '.join(CHART_METRICS)}"
        raise ApplicationError(f"metric: {message}", problems=[Problem(message, field="metric")])
    return metric


def _form_context(project, query: dict) -> dict:
    selected = {p.strip() for p in query["runs"].split(",") if p.strip()}
    runs = [
        {"id": r.pk, "name": r.name, "status": r.status, "selected": str(r.pk) in selected or r.name in selected}
        for r in ModelRun.objects.filter(project=project).order_by("created_at", "id").only("pk", "name", "status")
    ]
    evaluated = set(
        EvaluationReport.objects.filter(project=project, status=EvaluationStatus.DONE)
        .order_by()
        .values_list("config__language", flat=True)
        .distinct()
    )
    languages = sorted({lang for lang in evaluated if lang} | ({query["language"]} if query["language"] else set()))
    return {
        "all_runs": runs,
        "languages": languages,
        "splits": Split.values,
        "metrics": [(m, METRIC_LABELS[m]) for m in CHART_METRICS],
        "query": query,
    }


@login_required
@require_GET
@page_errors
def report_compare(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="manage")
    query = comparison_query(request.GET)
    fmt = (request.GET.get("format") or "").strip()
    context = {"project": project, "role": role, "hub_url": _hub_url(project.slug), **_form_context(project, query)}
    if not query["runs"] and not fmt:
        return render(request, "evaluation/reports/compare.html", context)
    try:
        metric = metric_check(query["metric"])
        comparison = comparison_from_query(project=project, query=query)
        report = comparison_report(comparison, metric=metric)
    except EvaluationsMissing as exc:
        if fmt:
            raise
        return _missing_page(request, context, exc)
    except ApplicationError as exc:
        if exc.status in (403, 404) or fmt:
            raise
        context["error"] = exc
        return render(request, "evaluation/reports/compare.html", context, status=exc.status)
    if fmt:
        table = (request.GET.get("table") or "").strip() or None
        return report_response(report, fmt, filename=f"comparison-{project.slug}", table_key=table)
    chart_query = {
        "runs": ",".join(str(e.run.pk) for e in comparison.runs),
        "reference": comparison.reference.run.pk,
        "language": comparison.language or "",
        "split": comparison.split or "",
        "metric": metric,
    }
    here = reverse("report-compare", args=[project.slug])
    significance = comparison.significance
    chart_qs = urlencode({**chart_query, "v": comparison.key[:12]})
    # The heatmap shows the markers once the tests are done: another URL then, past the cache.
    heatmap_qs = urlencode({**chart_query, "v": f"{comparison.key[:12]}-{significance.status}"})
    context.update(
        {
            "comparison": comparison,
            "report": report,
            "significance": significance,
            "progress_percent": round(100 * (significance.progress or 0)),
            "bars_url": f"{reverse('report-compare-bars', args=[project.slug])}?{chart_qs}",
            "heatmap_url": f"{reverse('report-compare-heatmap', args=[project.slug])}?{heatmap_qs}",
            "downloads": [(f, f"{here}?{urlencode({**chart_query, 'format': f})}") for f in REPORT_FORMATS],
            "api_url": f"{reverse('api-report-compare', args=[project.slug])}?{urlencode(chart_query)}",
            "metric_label": METRIC_LABELS[metric],
            "refresh_seconds": REFRESH_SECONDS if significance.status in ("queued", "running") else None,
        }
    )
    response = render(request, "evaluation/reports/compare.html", context)
    if context["refresh_seconds"]:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response


def _selection_query(query: dict) -> dict:
    """The page's selection as query parameters (empty ones left out)."""
    keys = ("runs", "reference", "language", "split", "metric")
    return {k: query[k] for k in keys if query[k] and not (k == "metric" and query[k] == DEFAULT_CHART_METRIC)}


def _missing_page(request, context: dict, missing: EvaluationsMissing) -> HttpResponse:
    """The form, the runs lacking an evaluation of the selection and the button that
    queues them; reloads itself while any of them is queued or running."""
    refresh = REFRESH_SECONDS if missing.in_progress else None
    context.update(
        {
            "missing": missing,
            "missing_metrics": ", ".join(missing.plan.metrics),
            "evaluate_url": reverse("report-compare-evaluate", args=[context["project"].slug]),
            "selection_fields": _selection_query(context["query"]),
            "refresh_seconds": refresh,
        }
    )
    response = render(request, "evaluation/reports/compare.html", context)
    if refresh:
        response["Refresh"] = str(refresh)
    return response


@login_required
@require_POST
@page_errors
def report_compare_evaluate(request, slug: str):
    """Queue an evaluation of the selection for each compared run without a finished or
    pending one, then back to the comparison (which reloads until they are done)."""
    project, _ = project_for_user(user=request.user, slug=slug, need="manage")
    query = comparison_query(request.POST)
    runs, reference = runs_from_query(project=project, query=query)
    result = comparison_evaluate_missing(
        project=project,
        runs=runs,
        reference=reference,
        language=query["language"],
        split=query["split"],
        user=request.user,
    )
    selection = f"language {result.language or 'any'}, split {result.split or 'any'}"
    sent = [r for r in result.queued if r.status != EvaluationStatus.FAILED]
    if sent:
        listed = ", ".join(f"{r.run.name} (evaluation {r.pk})" for r in sent)
        messages.success(
            request, f"Queued evaluations of {selection} with metrics {', '.join(result.plan.metrics)}: {listed}."
        )
    for r in result.queued:
        if r.status == EvaluationStatus.FAILED:  # on commit: the broker could not be reached
            messages.error(request, f"Evaluation {r.pk} of run {r.run.name} could not be queued: {r.error}")
    if result.in_progress:
        listed = ", ".join(f"{r.run.name} (evaluation {r.pk}, {r.status})" for r in result.in_progress)
        messages.info(request, f"Already in progress, not queued again: {listed}.")
    if not result.queued and not result.in_progress:
        messages.info(request, f"Every run already has a finished evaluation of {selection}; nothing was queued.")
    return redirect(f"{reverse('report-compare', args=[project.slug])}?{urlencode(_selection_query(query))}")


def _chart(request, slug: str, draw) -> HttpResponse:
    try:
        project, _ = project_for_user(user=request.user, slug=slug, need="manage")
        query = comparison_query(request.GET)
        metric = metric_check(query["metric"])
        comparison = comparison_from_query(project=project, query=query, significance=draw is _heatmap, stats=False)
        svg = draw(chart_data(comparison, metric))
    except ApplicationError as exc:
        return HttpResponse(exc.message + "\n", status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(svg, content_type="image/svg+xml")
    patch_cache_control(response, private=True, max_age=CHART_MAX_AGE)
    return response


def _bars(data: dict) -> str:
    return bars_svg(data["categories"], data["runs"], data["values"], data["metric_label"], labels=data["labels"])


def _heatmap(data: dict) -> str:
    return heatmap_svg(
        data["categories"],
        data["others"],
        data["deltas"],
        data["metric_label"],
        reference=data["reference"],
        labels=data["labels"],
        marks=data["marks"],
    )


@login_required
@require_GET
def report_compare_bars(request, slug: str):
    return _chart(request, slug, _bars)


@login_required
@require_GET
def report_compare_heatmap(request, slug: str):
    return _chart(request, slug, _heatmap)

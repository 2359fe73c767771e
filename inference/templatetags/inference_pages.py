"""Run pieces shown on annotation's pages (project page, document page).

Inclusion tags, so annotation's views need no import of inference (data flows one way:
inference reads annotation, not the reverse). Callers show them only to roles that may
see documents (researchers, reviewers, staff).
"""

from __future__ import annotations

from django import template

from ..pages import progress_display
from ..selectors_pages import LIVE_STATUSES, candidates_for_document, latest_runs_with_progress

register = template.Library()

PROJECT_PAGE_RUNS = 5


@register.inclusion_tag("inference/_project_runs.html")
def project_runs(project):
    rows = [
        {"run": run, "progress": progress_display(progress)}
        for run, progress in latest_runs_with_progress(project=project, limit=PROJECT_PAGE_RUNS)
    ]
    return {"project": project, "rows": rows, "live_statuses": LIVE_STATUSES, "shown": PROJECT_PAGE_RUNS}


@register.inclusion_tag("inference/_document_candidates.html")
def document_candidates(project, document):
    categories = list(project.categories.order_by("order"))
    known = {c.key for c in categories}
    candidates = []
    for candidate in candidates_for_document(document=document):
        values = candidate.values if isinstance(candidate.values, dict) else {}
        rows = [{"label": c.label, "value": values.get(c.key)} for c in categories]
        rows += [{"label": key, "value": value} for key, value in values.items() if key not in known]
        candidates.append({"candidate": candidate, "rows": rows})
    return {"project": project, "candidates": candidates}

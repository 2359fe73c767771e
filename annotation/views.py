"""Server-rendered pages: projects, their numbers, documents and gold.

Every page needs a login. Access rules come from ``selectors.project_for_user``; its
NotFound / PermissionDenied become friendly 404 / 403 pages with the reason, never a
traceback.
"""

from __future__ import annotations

import json
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.shortcuts import render

from elmtex_site.errors import ApplicationError

from .models import Split
from .schema import NA
from .selectors import (
    HAS_GOLD_CHOICES,
    can_manage_project,
    can_view_documents,
    document_get,
    documents_search,
    gold_coverage,
    project_counts,
    project_for_user,
    project_languages,
    projects_with_counts,
)
from .selectors_pages import (
    EXCERPT_CHARS,
    counts_matrix,
    document_list_rows,
    document_neighbours,
    document_translations,
    project_members,
)
from .services.exports import EXPORT_FORMATS

DOCUMENTS_PER_PAGE = 50

ERROR_TITLES = {403: "Permission denied", 404: "Not found"}
EXPORT_FORMAT_LABELS = {
    "jsonl": "JSON lines (.jsonl)",
    "json": "JSON array (.json)",
    "csv": "CSV (.csv)",
    "chat": "Chat fine-tuning records (.jsonl)",
    "hf": "Hugging Face dataset folder (export job)",
}


def render_error(request, exc: ApplicationError):
    status = exc.status if exc.status in ERROR_TITLES else 400
    context = {"title": ERROR_TITLES.get(status, "Request refused"), "message": exc.message, "status": status}
    return render(request, "annotation/error.html", context, status=status)


def page_errors(view):
    """Render an ApplicationError raised by ``view`` as an error page with its message."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return render_error(request, exc)

    return wrapper


@login_required
def project_list(request):
    projects = list(projects_with_counts(user=request.user))
    return render(request, "annotation/project_list.html", {"projects": projects})


@login_required
@page_errors
def project_detail(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="member")
    may_view_documents = can_view_documents(role)
    # Gold coverage is about gold, which annotators never see (the API answers null too).
    coverage = gold_coverage(project=project) if may_view_documents else None
    for row in coverage or []:
        share = row["filled_share"]
        # Formatted here, not with floatformat, so the CSS width never gets a locale's comma.
        row["percent"] = None if share is None else f"{share * 100:.1f}"
    context = {
        "project": project,
        "role": role,
        "counts": counts_matrix(project_counts(project=project)),
        "coverage": coverage,
        "categories": project.categories.order_by("order"),
        "may_view_documents": may_view_documents,
        "may_see_members": can_manage_project(role),
        "may_import": can_manage_project(role),
        "export_formats": [(fmt, EXPORT_FORMAT_LABELS.get(fmt, fmt)) for fmt in EXPORT_FORMATS],
        "split_choices": Split.choices,
    }
    if context["may_see_members"]:
        context["members"] = project_members(project=project)
    return render(request, "annotation/project_detail.html", context)


class DocumentFilterForm(forms.Form):
    q = forms.CharField(
        required=False, max_length=500, label="Search", help_text="A document id (exact) or words from the report text."
    )
    split = forms.ChoiceField(required=False, choices=[("", "any"), *Split.choices], label="Split")
    language = forms.ChoiceField(required=False, label="Language")
    has_gold = forms.ChoiceField(
        required=False, choices=[("", "any"), *((value, value) for value in HAS_GOLD_CHOICES)], label="Has gold"
    )

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "any"), *((lang, lang) for lang in languages)]

    def filters(self) -> dict:
        """The valid filters; a field with a bad value filters nothing (its error is shown)."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


@login_required
@page_errors
def document_list(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    form = DocumentFilterForm(request.GET, languages=project_languages(project=project))
    filters = form.filters()
    documents = document_list_rows(documents_search(project=project, **filters))
    page = Paginator(documents, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "role": role,
        "form": form,
        "filtered": any(filters.values()),
        "page": page,
        "excerpt_chars": EXCERPT_CHARS,
    }
    return render(request, "annotation/document_list.html", context)


def _display(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _gold_rows(categories, values: dict) -> tuple[list[dict], list[dict]]:
    """Gold values in schema order, then any keys the schema does not know."""
    rows = []
    for category in categories:
        value = values.get(category.key)
        text = None if value is None else _display(value)
        rows.append(
            {
                "key": category.key,
                "label": category.label,
                "value": text,
                "missing": text is None,
                "na": text is not None and text.strip() == NA,
            }
        )
    known = {c.key for c in categories}
    extra = [{"key": key, "value": _display(value)} for key, value in values.items() if key not in known]
    return rows, extra


@login_required
@page_errors
def document_detail(request, slug: str, pk: int):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    document = document_get(project=project, pk=pk)
    try:
        gold = document.gold
    except ObjectDoesNotExist:
        gold = None
    categories = list(project.categories.order_by("order"))
    gold_rows, gold_extra = _gold_rows(categories, gold.values if gold else {})
    metadata = document.metadata if isinstance(document.metadata, dict) else {"metadata": document.metadata}
    prev_pk, next_pk = document_neighbours(document=document)
    context = {
        "project": project,
        "role": role,
        "document": document,
        "gold": gold,
        "gold_rows": gold_rows,
        "gold_extra": gold_extra,
        "provenance": json.dumps(gold.provenance, indent=2, ensure_ascii=False, sort_keys=True) if gold else "",
        "metadata": [(key, _display(value)) for key, value in metadata.items()],
        "translations": document_translations(document=document),
        "prev_pk": prev_pk,
        "next_pk": next_pk,
    }
    return render(request, "annotation/document_detail.html", context)

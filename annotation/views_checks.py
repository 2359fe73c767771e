"""The checks page: findings of the automated checks summarised per target x check code,
with example documents, a filtered list, and (researchers) a button that re-checks the
project in a worker. Researchers, reviewers and staff; annotators get 403."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import CheckTarget
from .selectors import can_manage_project, project_for_user
from .selectors_checks import PAGE_SIZE, checks_codes, checks_filtered, checks_summary, finding_row
from .services.checks import DEFAULT_TARGETS, checks_targets_parse
from .views import page_errors


class ChecksFilterForm(forms.Form):
    target = forms.ChoiceField(required=False, choices=[("", "any"), *CheckTarget.choices], label="Target")
    code = forms.ChoiceField(required=False, label="Check")
    category = forms.ChoiceField(required=False, label="Category")

    def __init__(self, *args, codes: list[str], categories: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "any"), *((c, c) for c in codes)]
        self.fields["category"].choices = [("", "any"), *categories]

    def filters(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) or "" for name in self.fields if name not in self.errors}


@login_required
@page_errors
def checks_page(request, slug: str):
    project, role = project_for_user(user=request.user, slug=slug, need="documents")
    categories = list(project.categories.order_by("order").values_list("key", "label"))
    form = ChecksFilterForm(request.GET or None, codes=checks_codes(project=project), categories=categories)
    filters = form.filters() if request.GET else {}
    paginator = Paginator(checks_filtered(project=project, **filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [finding_row(r) for r in page.object_list]
    summary = checks_summary(project=project)
    context = {
        "project": project,
        "role": role,
        "form": form,
        "filtered": any(filters.values()),
        "summary": summary,
        "page": page,
        "labels": dict(categories),
        "may_run": can_manage_project(role),
        "targets": CheckTarget.choices,
        "last_checked": max((r["last_checked"] for r in summary), default=None),
    }
    return render(request, "annotation/checks.html", context)


@login_required
@require_POST
@page_errors
def checks_run_page(request, slug: str):
    from .tasks import checks_enqueue

    project, _ = project_for_user(user=request.user, slug=slug, need="manage")
    targets = checks_targets_parse(targets=request.POST.getlist("targets") or list(DEFAULT_TARGETS))
    checks_enqueue(project_id=project.pk, targets=list(targets), task_id=str(uuid.uuid4()))
    messages.success(request, f"Checks of {', '.join(targets)} queued; reload this page when the worker has finished.")
    return redirect("checks", slug=project.slug)

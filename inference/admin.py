"""Admin for endpoints, runs and candidates. Lists never query per row: related objects
are joined (list_select_related) and the runs' counts are per-row subqueries of the list
query itself."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import reverse

from .models import DONE_CANDIDATE_STATUSES, Candidate, CandidateStatus, ModelEndpoint, ModelRun


def _candidate_count(*statuses: str) -> Coalesce:
    counted = (
        Candidate.objects.filter(run=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("run")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@admin.register(ModelEndpoint)
class ModelEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "base_url", "model_id", "mode", "concurrency", "updated_at"]
    list_filter = ["mode"]
    search_fields = ["name", "model_id", "base_url"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["created_at", "updated_at"]
    # Local TGI servers speak plain http; say so rather than take Django's changing default.
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}


@admin.register(ModelRun)
class ModelRunAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "endpoint", "strategy", "status", "total", "done", "failed", "created_at"]
    list_display_links = ["id", "name"]
    list_filter = ["status", "strategy", "source", "project"]
    search_fields = ["name", "project__slug"]
    raw_id_fields = ["project", "endpoint", "created_by"]
    list_select_related = ["project", "endpoint"]
    readonly_fields = ["created_at"]
    show_full_result_count = False
    actions = ["compare_runs"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                done_count=_candidate_count(*DONE_CANDIDATE_STATUSES),
                failed_count=_candidate_count(CandidateStatus.FAILED),
            )
        )

    @admin.display(description="done", ordering="done_count")
    def done(self, run):
        return run.done_count

    @admin.display(description="failed", ordering="failed_count")
    def failed(self, run):
        return run.failed_count

    @admin.action(description="Compare selected runs")
    def compare_runs(self, request, queryset):
        """To the model comparison page of the runs' project (one project at a time)."""
        runs = list(queryset.order_by("created_at", "id").values_list("pk", "project__slug"))
        slugs = sorted({slug for _, slug in runs})
        if len(slugs) != 1:
            self.message_user(
                request,
                f"Runs of one project can be compared; the selection spans {', '.join(slugs)}. Select runs of one "
                "project.",
                level=messages.ERROR,
            )
            return None
        query = urlencode({"runs": ",".join(str(pk) for pk, _ in runs)})
        return redirect(f"{reverse('report-compare', args=[slugs[0]])}?{query}")


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "document", "status", "attempts", "latency_ms", "updated_at"]
    list_filter = ["status", "run__project"]
    search_fields = ["document__external_id", "run__name"]
    raw_id_fields = ["run", "document"]
    list_select_related = ["run", "document", "document__project"]
    show_full_result_count = False

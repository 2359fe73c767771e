"""Admin for endpoints, runs and candidates. Lists never query per row: related objects
are joined (list_select_related) and the runs' counts are per-row subqueries of the list
query itself."""

from django.contrib import admin
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

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


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "document", "status", "attempts", "latency_ms", "updated_at"]
    list_filter = ["status", "run__project"]
    search_fields = ["document__external_id", "run__name"]
    raw_id_fields = ["run", "document"]
    list_select_related = ["run", "document", "document__project"]
    show_full_result_count = False

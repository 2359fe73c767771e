from django.contrib import admin

from .models import EvaluationReport


@admin.register(EvaluationReport)
class EvaluationReportAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "run",
        "compare_run",
        "status",
        "progress_done",
        "progress_total",
        "gold_version",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "project"]
    search_fields = ["run__name", "gold_version"]
    raw_id_fields = ["run", "compare_run"]
    list_select_related = ["project", "run", "compare_run", "created_by"]
    # The per-document scores can be large: never loaded for the list, read-only on the form.
    readonly_fields = [
        "per_document",
        "results",
        "config",
        "gold_version",
        "progress_done",
        "progress_total",
        "created_at",
    ]
    show_full_result_count = False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        url_name = getattr(request.resolver_match, "url_name", "") or ""
        return qs.defer("per_document") if url_name.endswith("changelist") else qs

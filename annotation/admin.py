from django.contrib import admin

from .models import (
    AccessLog,
    Annotation,
    AnnotationRevision,
    AnnotationSettings,
    Assignment,
    Category,
    CheckResult,
    Document,
    Gold,
    GoldRevision,
    Membership,
    Project,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [CategoryInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__slug"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["project", "key", "label", "text_metrics", "entity_metrics", "order"]
    list_filter = ["project", "text_metrics", "entity_metrics"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["external_id", "project", "language", "split", "translation_of", "updated_at"]
    list_filter = ["project", "language", "split"]
    search_fields = ["external_id"]
    raw_id_fields = ["translation_of"]
    list_select_related = ["project", "translation_of", "translation_of__project"]
    show_full_result_count = False


@admin.register(Gold)
class GoldAdmin(admin.ModelAdmin):
    list_display = ["document", "origin", "version", "updated_at", "updated_by"]
    list_filter = ["origin", "document__project"]
    search_fields = ["document__external_id"]
    raw_id_fields = ["document"]
    list_select_related = ["document", "document__project", "updated_by"]
    show_full_result_count = False


# --- Annotation work (issue 4) ---------------------------------------------------------


@admin.register(AnnotationSettings)
class AnnotationSettingsAdmin(admin.ModelAdmin):
    list_display = ["project", "prefill", "prefill_run", "grounding_threshold", "updated_at"]
    raw_id_fields = ["prefill_run"]
    list_select_related = ["project", "prefill_run"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "document", "annotator", "status", "draft_run", "time_spent_seconds", "submitted_at"]
    list_filter = ["status", "project"]
    search_fields = ["document__external_id", "annotator__username"]
    raw_id_fields = ["document", "annotator", "draft_run", "assigned_by"]
    list_select_related = ["document", "document__project", "annotator", "draft_run"]
    show_full_result_count = False


class AnnotationRevisionInline(admin.TabularInline):
    model = AnnotationRevision
    extra = 0
    fields = ["version", "user", "created_at", "changes"]
    readonly_fields = fields
    can_delete = False


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "assignment", "source", "version", "updated_at"]
    list_filter = ["source", "assignment__status", "assignment__project"]
    search_fields = ["assignment__document__external_id", "assignment__annotator__username"]
    raw_id_fields = ["assignment"]
    list_select_related = [
        "assignment",
        "assignment__document",
        "assignment__document__project",
        "assignment__annotator",
    ]
    inlines = [AnnotationRevisionInline]
    show_full_result_count = False


@admin.register(GoldRevision)
class GoldRevisionAdmin(admin.ModelAdmin):
    list_display = ["document", "version", "origin", "user", "created_at"]
    list_filter = ["origin", "document__project"]
    search_fields = ["document__external_id"]
    raw_id_fields = ["document"]
    list_select_related = ["document", "document__project", "user"]
    show_full_result_count = False


@admin.register(CheckResult)
class CheckResultAdmin(admin.ModelAdmin):
    list_display = ["document", "target", "target_id", "category", "code", "severity", "created_at"]
    list_filter = ["target", "severity", "code", "project"]
    search_fields = ["document__external_id", "code"]
    raw_id_fields = ["document"]
    list_select_related = ["document", "document__project"]
    show_full_result_count = False


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Append-only: shown, never edited."""

    list_display = ["at", "user", "action", "document", "project", "detail"]
    list_filter = ["action", "project"]
    search_fields = ["user__username", "document__external_id"]
    list_select_related = ["user", "document", "document__project", "project"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

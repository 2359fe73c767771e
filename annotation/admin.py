from django.contrib import admin

from .models import Category, Document, Gold, Membership, Project


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

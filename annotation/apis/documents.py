"""Documents and their gold (researchers, reviewers, staff)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.db.models.functions import Substr
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from elmtex_site.api import error_responses, input_validate
from elmtex_site.errors import NotFound

from ..models import Document, Gold, Split
from ..schema import NA
from ..selectors import HAS_GOLD_CHOICES, document_get, documents_search
from .common import TEXT_PREVIEW_CHARS, ProjectScopedMixin


class DocumentListApi(ProjectScopedMixin, generics.ListAPIView):
    """Documents, filtered as on the list page. Researchers, reviewers and staff."""

    project_need = "documents"

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="a patient_id, or text the report contains"
        )
        split = serializers.ChoiceField(choices=[*Split.values, ""], required=False, default="")
        language = serializers.CharField(required=False, allow_blank=True, default="")
        has_gold = serializers.ChoiceField(choices=[*HAS_GOLD_CHOICES, ""], required=False, default="")

    class OutputSerializer(serializers.ModelSerializer):
        patient_id = serializers.CharField(source="external_id")
        translation_of = serializers.IntegerField(source="translation_of_id", allow_null=True)
        has_gold = serializers.BooleanField(source="gold_exists")
        text_preview = serializers.SerializerMethodField()

        class Meta:
            model = Document
            ref_name = "DocumentListItem"
            fields = ["id", "patient_id", "language", "split", "translation_of", "has_gold", "metadata", "text_preview"]

        def get_text_preview(self, obj) -> str:
            head = obj.text_head
            return head if len(head) <= TEXT_PREVIEW_CHARS else head[:TEXT_PREVIEW_CHARS] + "…"

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return Document.objects.none()
        project = self.get_project()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return (
            documents_search(project=project, **filters)
            .defer("text", "content_hash")
            .annotate(
                gold_exists=Exists(Gold.objects.filter(document=OuterRef("pk"))),
                text_head=Substr("text", 1, TEXT_PREVIEW_CHARS + 1),
            )
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="a patient_id, or text the report contains"),
            OpenApiParameter("split", str, enum=Split.values),
            OpenApiParameter("language", str, description="e.g. en, de"),
            OpenApiParameter("has_gold", str, enum=list(HAS_GOLD_CHOICES)),
        ],
        responses={200: OutputSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DocumentDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """One document with its full text. Researchers, reviewers and staff."""

    project_need = "documents"

    class OutputSerializer(serializers.ModelSerializer):
        patient_id = serializers.CharField(source="external_id")
        translation_of = serializers.IntegerField(source="translation_of_id", allow_null=True)
        has_gold = serializers.SerializerMethodField()
        translations = serializers.SerializerMethodField(help_text="ids of the documents translating this one")

        class Meta:
            model = Document
            ref_name = "Document"
            fields = [
                "id",
                "patient_id",
                "language",
                "split",
                "translation_of",
                "translations",
                "has_gold",
                "metadata",
                "text",
                "created_at",
                "updated_at",
            ]

        def get_has_gold(self, obj) -> bool:
            return hasattr(obj, "gold")

        def get_translations(self, obj) -> list[int]:
            return list(obj.translations.order_by("id").values_list("id", flat=True))

    serializer_class = OutputSerializer

    def get_object(self):
        return document_get(project=self.get_project(), pk=self.kwargs["pk"])

    @extend_schema(responses={200: OutputSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GoldDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """A document's gold, values in schema order (as ``export_gold`` writes them).
    Researchers, reviewers and staff; 404 when the document has no gold."""

    project_need = "documents"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Gold"

        document = serializers.IntegerField()
        patient_id = serializers.CharField()
        language = serializers.CharField()
        values = serializers.DictField(child=serializers.CharField(), help_text="category key -> text, schema order")
        origin = serializers.CharField()
        version = serializers.IntegerField()
        provenance = serializers.JSONField()
        updated_at = serializers.DateTimeField()
        updated_by = serializers.CharField(allow_null=True)

    serializer_class = OutputSerializer

    @extend_schema(responses={200: OutputSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        project = self.get_project()
        document = document_get(project=project, pk=self.kwargs["pk"])
        gold = getattr(document, "gold", None)
        if gold is None:
            raise NotFound(f"document {document.pk} ({document.external_id}) has no gold yet")
        keys = project.categories.order_by("order").values_list("key", flat=True)
        data = {
            "document": document.pk,
            "patient_id": document.external_id,
            "language": document.language,
            "values": {key: gold.values.get(key, NA) for key in keys},
            "origin": gold.origin,
            "version": gold.version,
            "provenance": gold.provenance,
            "updated_at": gold.updated_at,
            "updated_by": gold.updated_by.username if gold.updated_by_id else None,
        }
        return Response(self.OutputSerializer(data).data)

"""Review, adjudication, gold history, access log and annotation settings (issue 4).

Review and adjudication: reviewers, researchers and staff (annotators get 403: they
never see gold or others' work). The access log and settings changes: researchers and staff.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import error_responses, input_validate

from ..models import AccessAction, AccessLog, PrefillMode
from ..schema import NA
from ..selectors_work import (
    REVIEW_STATUSES,
    access_log_list,
    annotation_settings_get,
    gold_history,
    review_context,
    review_document_get,
    review_queue,
)
from ..services.access import access_record
from ..services.adjudication import gold_accept_agreed, gold_adjudicate
from ..services.annotations import annotation_settings_update
from .common import ProjectScopedMixin
from .work import JudgementsField, SpansField, ValuesField, conflict_responses, run_of_project


class GoldOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AdjudicatedGold"

    document = serializers.IntegerField(source="document_id")
    values = ValuesField(help_text="category key -> text, schema order")
    origin = serializers.CharField()
    version = serializers.IntegerField(help_text="send it back with the next adjudication (optimistic locking)")
    provenance = serializers.JSONField()
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(source="updated_by.username", allow_null=True, default=None)


def _gold_data(gold, keys) -> dict:
    data = GoldOutputSerializer(gold).data
    data["values"] = {k: gold.values.get(k, NA) for k in keys}
    return data


class ReviewQueueApi(ProjectScopedMixin, generics.ListAPIView):
    """Documents with submitted annotations, with agreement flags. Reviewers, researchers, staff."""

    project_need = "documents"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ReviewQueueItem"

        document = serializers.IntegerField(source="pk")
        patient_id = serializers.CharField(source="external_id")
        language = serializers.CharField()
        split = serializers.CharField()
        n_submitted = serializers.IntegerField()
        n_open = serializers.IntegerField(help_text="assignments still being worked on")
        agreed = serializers.BooleanField(help_text="at least 2 submitted annotations, all with the same values")
        adjudicated = serializers.BooleanField()
        has_gold = serializers.BooleanField()

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*REVIEW_STATUSES, ""], required=False, default="")

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            from ..models import Document

            return Document.objects.none()
        project = self.get_project()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return review_queue(project=project, status=filters["status"] or None)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(REVIEW_STATUSES))],
        responses={200: OutputSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewDetailApi(ProjectScopedMixin, APIView):
    """A document for adjudication: the report, every submitted annotation (annotator,
    values, judgements, spans, draft), the model drafts and the gold with its version."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Review"

        class DocumentSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReviewDocument"

            id = serializers.IntegerField()
            patient_id = serializers.CharField(source="external_id")
            language = serializers.CharField()
            split = serializers.CharField()
            translation_of = serializers.IntegerField(source="translation_of_id", allow_null=True)
            text = serializers.CharField()

        class CategorySerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReviewCategory"

            key = serializers.CharField()
            label = serializers.CharField()
            guideline = serializers.CharField()

        class AnnotationSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReviewAnnotation"

            id = serializers.IntegerField()
            assignment = serializers.IntegerField()
            annotator = serializers.CharField()
            values = ValuesField()
            judgements = JudgementsField()
            spans = SpansField()
            draft = ValuesField()
            source = serializers.CharField()
            version = serializers.IntegerField()
            submitted_at = serializers.DateTimeField(allow_null=True)
            time_spent_seconds = serializers.FloatField()

        class DraftSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ReviewDraft"

            run = serializers.IntegerField()
            run_name = serializers.CharField()
            values = ValuesField()

        document = DocumentSerializer()
        categories = CategorySerializer(many=True)
        annotations = AnnotationSerializer(many=True)
        drafts = DraftSerializer(many=True)
        gold = GoldOutputSerializer(allow_null=True)

    @extend_schema(responses={200: OutputSerializer, **error_responses(403, 404)})
    def get(self, request, slug: str, pk: int):
        project = self.get_project()
        document = review_document_get(user=request.user, project=project, pk=pk)
        context = review_context(document=document)
        access_record(user=request.user, project=project, action=AccessAction.VIEW, document=document, detail="review")
        keys = [c.key for c in context["categories"]]
        data = self.OutputSerializer({**context, "gold": None}).data
        data["gold"] = _gold_data(context["gold"], keys) if context["gold"] else None
        return Response(data)


class AdjudicateApi(ProjectScopedMixin, APIView):
    """Save gold for a document from the reviewer's choices (origin adjudicated, with
    provenance and a revision). ``version``: the gold version you started from (null
    when the document had no gold); 409 when someone saved in between."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Adjudicate"

        version = serializers.IntegerField(allow_null=True, help_text="gold version you started from; null: none")
        values = ValuesField(help_text="category key -> text; keys left out keep the current gold value")
        sources = serializers.JSONField(
            required=False,
            default=None,
            allow_null=True,
            help_text='per key: an annotation id, "draft", "edited" or "gold"',
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: GoldOutputSerializer, **error_responses(400, 403, 404), **conflict_responses()},
    )
    def post(self, request, slug: str, pk: int):
        project = self.get_project()
        document = review_document_get(user=request.user, project=project, pk=pk)
        data = input_validate(self.InputSerializer, request.data)
        gold = gold_adjudicate(
            document=document,
            user=request.user,
            values=data["values"],
            version=data["version"],
            sources=data["sources"],
        )
        keys = list(project.categories.order_by("order").values_list("key", flat=True))
        return Response(_gold_data(gold, keys))


class AcceptAgreedApi(ProjectScopedMixin, APIView):
    """Accept as gold every document whose submitted annotations (at least
    ``min_annotations``) agree exactly and that has no open assignment."""

    project_need = "documents"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AcceptAgreed"

        document_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_null=True, default=None
        )
        min_annotations = serializers.IntegerField(required=False, default=2, min_value=2)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AcceptAgreedResult"

        accepted = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 403, 404)})
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        count = gold_accept_agreed(
            project=project,
            user=request.user,
            document_ids=data["document_ids"],
            min_annotations=data["min_annotations"],
        )
        return Response({"accepted": count})


class GoldRevisionOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "GoldRevision"

    version = serializers.IntegerField(help_text="gold version after this change")
    origin = serializers.CharField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    at = serializers.DateTimeField(source="created_at")
    changes = serializers.JSONField(help_text='{"<key>": [old, new]}')
    provenance = serializers.JSONField()


class GoldHistoryApi(ProjectScopedMixin, APIView):
    """Who changed a document's gold, when, old -> new. Reviewers, researchers, staff."""

    project_need = "documents"

    @extend_schema(responses={200: GoldRevisionOutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, slug: str, pk: int):
        document = review_document_get(user=request.user, project=self.get_project(), pk=pk)
        return Response(GoldRevisionOutputSerializer(gold_history(document=document), many=True).data)


class AccessLogApi(ProjectScopedMixin, generics.ListAPIView):
    """Who opened or changed which document, when (ids only). Researchers and staff."""

    project_need = "manage"

    class OutputSerializer(serializers.ModelSerializer):
        user = serializers.CharField(source="user.username", allow_null=True, default=None)
        patient_id = serializers.CharField(source="document.external_id", allow_null=True, default=None)

        class Meta:
            model = AccessLog
            ref_name = "AccessLogEntry"
            fields = ["id", "at", "user", "action", "document", "patient_id", "detail"]

    class FilterSerializer(serializers.Serializer):
        user = serializers.CharField(required=False, allow_blank=True, default="")
        document = serializers.IntegerField(required=False, allow_null=True, default=None)
        action = serializers.ChoiceField(choices=[*AccessAction.values, ""], required=False, default="")

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return AccessLog.objects.none()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return access_log_list(project=self.get_project(), **filters)

    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, description="username"),
            OpenApiParameter("document", int),
            OpenApiParameter("action", str, enum=AccessAction.values),
        ],
        responses={200: OutputSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AnnotationSettingsApi(ProjectScopedMixin, APIView):
    """How the forms start: pre-filled from a run's candidates or empty. GET: any
    member; PUT: researchers and staff."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnotationSettings"

        prefill = serializers.ChoiceField(choices=PrefillMode.values)
        prefill_run = serializers.IntegerField(source="prefill_run_id", allow_null=True)
        grounding_threshold = serializers.IntegerField()

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnotationSettingsUpdate"

        prefill = serializers.ChoiceField(choices=PrefillMode.values, required=False)
        prefill_run = serializers.IntegerField(required=False, allow_null=True, help_text="run id; null clears it")
        grounding_threshold = serializers.IntegerField(required=False, min_value=0, max_value=100)

    @extend_schema(responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request, slug: str):
        return Response(self.OutputSerializer(annotation_settings_get(project=self.get_project())).data)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 403, 404)})
    def put(self, request, slug: str):
        self.project_need = "manage"
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        run_given = "prefill_run" in data
        row = annotation_settings_update(
            project=project,
            prefill=data.get("prefill"),
            prefill_run=run_of_project(project, data["prefill_run"]) if run_given else None,
            grounding_threshold=data.get("grounding_threshold"),
            clear_run=run_given and data["prefill_run"] is None,
        )
        return Response(self.OutputSerializer(row).data)

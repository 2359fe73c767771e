"""Inter-annotator agreement reports over the REST API: ``agreement`` as a background job.

Researchers, reviewers and staff of the project (agreement compares annotators' work,
which annotators never see of each other); annotators get 403, outsiders 404
(``project_for_user(need="documents")``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from annotation.apis.common import ProjectScopedMixin
from elmtex_site.api import error_responses, input_validate

from .models import AgreementReport, EvaluationStatus
from .selectors_agreement import agreement_report_get, agreement_reports_for_project, agreement_staleness
from .services.agreement import agreement_run

STATUS_HELP = f"one of: {', '.join(EvaluationStatus.values)}"
STALE_HELP = "true when submitted annotations changed since the report was computed"


def _progress(report: AgreementReport) -> dict:
    return {"done": report.progress_done, "total": report.progress_total}


def agreement_summary(report: AgreementReport, *, cache: dict | None = None) -> dict:
    """A list entry: selection, status, progress, staleness and the overall figures."""
    config = report.config or {}
    return {
        "id": report.pk,
        "status": report.status,
        "language": config.get("language"),
        "split": config.get("split"),
        "progress": _progress(report),
        "annotations_version": report.annotations_version or None,
        "stale": agreement_staleness(report=report, cache=cache).stale,
        "overall": (report.results or {}).get("overall"),
        "created_at": report.created_at,
        "created_by": report.created_by.username if report.created_by_id else None,
    }


def agreement_detail(report: AgreementReport) -> dict:
    """The CLI.md ``agreement`` JSON plus id, status, progress, error, stale and who/when.
    A queued, running or failed report has null results."""
    results = report.results or {}
    data = agreement_summary(report)
    data.update(
        {
            "error": report.error,
            "config": report.config,
            "selection": results.get("selection"),
            "text": results.get("text"),
            "categories": results.get("categories"),
            "overall": results.get("overall"),
        }
    )
    return data


class AgreementSummarySerializer(serializers.Serializer):
    class Meta:
        ref_name = "AgreementSummary"

    id = serializers.IntegerField()
    # A plain string: an enum here would collide with the runs' status enum in the schema.
    status = serializers.CharField(help_text=STATUS_HELP)
    language = serializers.CharField(allow_null=True)
    split = serializers.CharField(allow_null=True)
    progress = serializers.JSONField(help_text='{"done", "total"}: documents read')
    annotations_version = serializers.CharField(allow_null=True, help_text="fingerprint of the annotations scored")
    stale = serializers.BooleanField(help_text=STALE_HELP)
    overall = serializers.JSONField(allow_null=True, help_text="pooled judgement statistics and macro text means")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)


class AgreementDetailSerializer(AgreementSummarySerializer):
    class Meta:
        ref_name = "AgreementReport"

    error = serializers.CharField(allow_blank=True)
    config = serializers.JSONField()
    selection = serializers.JSONField(allow_null=True, help_text="documents, annotations and annotators scored")
    text = serializers.JSONField(allow_null=True, help_text="tokenizers and entity matcher of the text figures")
    categories = serializers.JSONField(
        allow_null=True,
        help_text="per category: items, annotators, krippendorff_alpha, fleiss_kappa, cohen_kappa_mean, "
        "text_rougeL_mean, text_entity_f1_mean, annotator_vs_gold, ...",
    )


class AgreementListCreateApi(ProjectScopedMixin, generics.ListAPIView):
    """List a project's agreement reports (newest first), or start one (``POST``: a
    background job on the ``evaluation`` queue by default, answered 202 with the report
    id; ``async: false`` computes it in the request and answers 201)."""

    project_need = "documents"
    serializer_class = AgreementSummarySerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AgreementRequest"

        language = serializers.CharField(required=False, allow_blank=True, default="")
        split = serializers.CharField(required=False, allow_blank=True, default="")

        def get_fields(self):
            fields = super().get_fields()
            # Declared here: "async" is a Python keyword, so it cannot be a class attribute.
            fields["async"] = serializers.BooleanField(
                required=False, default=True, help_text="false: compute in the request instead of a worker"
            )
            return fields

    def get_queryset(self):
        if self.is_schema_generation():
            return AgreementReport.objects.none()
        return agreement_reports_for_project(project=self.get_project())

    def get_serializer(self, *args, **kwargs):
        if args:
            cache: dict = {}
            args = ([agreement_summary(r, cache=cache) for r in args[0]], *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(responses={200: AgreementSummarySerializer(many=True), **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={201: AgreementDetailSerializer, 202: AgreementDetailSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        report = agreement_run(
            project=project,
            user=request.user,
            language=data["language"],
            split=data["split"],
            asynchronous=data["async"],
        )
        code = status.HTTP_202_ACCEPTED if data["async"] else status.HTTP_201_CREATED
        return Response(AgreementDetailSerializer(agreement_detail(report)).data, status=code)


class AgreementDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """One agreement report: the ``agreement --json`` shape plus id, status, progress,
    error and whether it is stale."""

    project_need = "documents"
    serializer_class = AgreementDetailSerializer

    @extend_schema(responses={200: AgreementDetailSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        report = agreement_report_get(project=self.get_project(), pk=self.kwargs["pk"])
        return Response(AgreementDetailSerializer(agreement_detail(report)).data)

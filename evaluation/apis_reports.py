"""Reports over the REST API: the list of a project's reports, and error analysis,
agreement overview and dataset overview as JSON (``report_json``) or, with
``?format=csv|md|tex``, as the download the report page gives.

Researchers and staff only (``need="manage"``): annotators and reviewers get 403,
outsiders 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.common import ProjectScopedMixin
from annotation.models import Split
from elmtex_site.api import QueryFormatNegotiation, error_responses

from .report_tables import CONTENT_TYPES, REPORT_FORMATS, Report, report_json, report_response
from .services.report_agreement import agreement_overview_report
from .services.report_dataset import dataset_report
from .services.report_errors import errors_report, report_runs_resolve
from .views_reports import report_format, reports_available


class ReportColumnSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AnalysisReportColumn"

    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField(help_text="text, int, float or pct (a fraction in [0, 1])")


class ReportTableSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AnalysisReportTable"

    key = serializers.CharField(help_text="machine name, unique within the report (the table= parameter)")
    title = serializers.CharField()
    columns = ReportColumnSerializer(many=True)
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="column key -> value (null where not computed), or {value, ci, best, mark} for annotated cells",
    )
    notes = serializers.ListField(child=serializers.CharField())


class ReportSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AnalysisReport"

    kind = serializers.CharField(help_text="errors, agreement or dataset")
    title = serializers.CharField()
    meta = serializers.DictField(help_text="selection, sources and when the report was generated")
    tables = ReportTableSerializer(many=True)


class ReportIndexSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ReportIndexEntry"

    kind = serializers.CharField(help_text="compare, errors, agreement or dataset")
    title = serializers.CharField()
    description = serializers.CharField()
    page_url = serializers.CharField(allow_null=True)
    api_url = serializers.CharField(allow_null=True)


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    enum=list(REPORT_FORMATS),
    description="json (default) or a download: csv, md (Markdown), tex (LaTeX booktabs)",
)
TABLE_PARAMETER = OpenApiParameter("table", str, description="download one table only, by its key")
LANGUAGE_PARAMETER = OpenApiParameter("language", str, description="documents in this language only, e.g. en")
SPLIT_PARAMETER = OpenApiParameter("split", str, enum=Split.values, description="documents of this split only")
RUNS_PARAMETER = OpenApiParameter(
    "runs",
    str,
    description="run ids or names, comma separated (default: the runs with judged drafts or check findings)",
)


def _responses() -> dict:
    downloads = {(200, CONTENT_TYPES[fmt].split(";")[0]): OpenApiTypes.STR for fmt in REPORT_FORMATS if fmt != "json"}
    return {
        (200, "application/json"): ReportSerializer,
        **{key: OpenApiResponse(value, description="the report as a download") for key, value in downloads.items()},
        **error_responses(400, 403, 404),
    }


class ReportApiBase(ProjectScopedMixin, APIView):
    project_need = "manage"
    renderer_classes = [JSONRenderer]
    content_negotiation_class = QueryFormatNegotiation

    def report_build(self, project) -> Report:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def get(self, request, slug: str):
        project = self.get_project()
        fmt = report_format(request.query_params.get("format"))
        report = self.report_build(project)
        if fmt in (None, "json"):
            return Response(report_json(report))
        table = (request.query_params.get("table") or "").strip() or None
        return report_response(report, fmt, filename=f"{project.slug}-{report.kind}", table_key=table)


class ReportListApi(ProjectScopedMixin, APIView):
    """The reports of a project with their page and API URLs."""

    project_need = "manage"

    @extend_schema(responses={200: ReportIndexSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, slug: str):
        project = self.get_project()
        return Response(reports_available(slug=project.slug))


class ReportErrorsApi(ReportApiBase):
    """Error analysis: per run and category, the annotators' judgements of the run's drafts
    (error rate), the check findings on its candidates, and example documents."""

    def report_build(self, project) -> Report:
        params = self.request.query_params
        runs = report_runs_resolve(project=project, text=",".join(params.getlist("runs")))
        return errors_report(project=project, runs=runs, language=params.get("language"), split=params.get("split"))

    @extend_schema(
        parameters=[RUNS_PARAMETER, LANGUAGE_PARAMETER, SPLIT_PARAMETER, FORMAT_PARAMETER, TABLE_PARAMETER],
        responses=_responses(),
    )
    def get(self, request, slug: str):
        return super().get(request, slug)


class ReportAgreementApi(ReportApiBase):
    """Agreement overview: per category alpha / kappas / text agreement / annotators vs gold
    from the latest finished agreement report of the selection (meta says which and
    whether it is stale), and per-annotator throughput computed live."""

    def report_build(self, project) -> Report:
        params = self.request.query_params
        return agreement_overview_report(project=project, language=params.get("language"), split=params.get("split"))

    @extend_schema(
        parameters=[LANGUAGE_PARAMETER, SPLIT_PARAMETER, FORMAT_PARAMETER, TABLE_PARAMETER], responses=_responses()
    )
    def get(self, request, slug: str):
        return super().get(request, slug)


class ReportDatasetApi(ReportApiBase):
    """Dataset overview: documents per split and language, gold coverage per category
    (N/A share per language), gold origin, annotation progress."""

    def report_build(self, project) -> Report:
        return dataset_report(project=project)

    @extend_schema(parameters=[FORMAT_PARAMETER, TABLE_PARAMETER], responses=_responses())
    def get(self, request, slug: str):
        return super().get(request, slug)

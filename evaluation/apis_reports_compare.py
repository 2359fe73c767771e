"""The model comparison over the REST API: ``report_json`` plus where the significance
tests stand, or with ``?format=csv|md|tex`` the download the page gives.

Researchers and staff only (``need="manage"``): annotators and reviewers get 403,
outsiders 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.common import ProjectScopedMixin
from annotation.models import Split
from elmtex_site.api import QueryFormatNegotiation, error_responses
from elmtex_site.errors import ApplicationError

from .report_tables import CONTENT_TYPES, REPORT_FORMATS, report_json, report_response
from .services.comparison import CHART_METRICS, DEFAULT_CHART_METRIC, comparison_report
from .views_reports_compare import comparison_from_query, comparison_query, metric_check

CompareOutputSerializer = inline_serializer(
    name="ComparisonReport",
    fields={
        "kind": serializers.CharField(help_text="comparison"),
        "title": serializers.CharField(),
        "meta": serializers.DictField(
            help_text="selection, reports used (run_details), metric configuration, significance results"
        ),
        "tables": serializers.ListField(
            child=serializers.DictField(),
            help_text="overall, categories, category_<metric>: {key, title, columns, rows, notes}; a cell is a value "
            "or {value, ci, best, mark}",
        ),
        "significance": inline_serializer(
            name="ComparisonSignificance",
            fields={
                "status": serializers.CharField(help_text="done, queued, running, failed or none (one run)"),
                "progress": serializers.FloatField(allow_null=True, help_text="fraction of the tests done"),
                "error": serializers.CharField(allow_null=True),
            },
        ),
    },
)

PARAMETERS = [
    OpenApiParameter("runs", str, required=True, description="run ids or names, comma separated"),
    OpenApiParameter("reference", str, description="run id or name to test against (default: the first run)"),
    OpenApiParameter("language", str, description="the evaluations of this language selection, e.g. en"),
    OpenApiParameter("split", str, enum=Split.values, description="the evaluations of this split selection"),
    OpenApiParameter(
        "metric",
        str,
        enum=list(CHART_METRICS),
        description=f"metric of the category_<metric> table (default {DEFAULT_CHART_METRIC})",
    ),
    OpenApiParameter(
        "format",
        str,
        enum=list(REPORT_FORMATS),
        description="json (default) or a download: csv, md (Markdown), tex (LaTeX booktabs)",
    ),
    OpenApiParameter("table", str, description="download one table only, by its key"),
]


class ReportCompareApi(ProjectScopedMixin, APIView):
    """Compare runs' latest evaluations of a selection: runs x categories x metrics with
    95% CIs, best marks, significance markers against the reference, macro and micro
    averages, parse failures, latency and tokens."""

    project_need = "manage"
    renderer_classes = [JSONRenderer]
    content_negotiation_class = QueryFormatNegotiation

    @extend_schema(
        parameters=PARAMETERS,
        responses={
            (200, "application/json"): CompareOutputSerializer,
            **{
                (200, CONTENT_TYPES[f].split(";")[0]): OpenApiResponse(OpenApiTypes.STR, description="a download")
                for f in REPORT_FORMATS
                if f != "json"
            },
            **error_responses(400, 403, 404),
        },
    )
    def get(self, request, slug: str):
        project = self.get_project()
        query = comparison_query(request.query_params)
        fmt = (request.query_params.get("format") or "").strip() or "json"
        if fmt not in REPORT_FORMATS:
            raise ApplicationError(f"format: expected one of {', '.join(REPORT_FORMATS)}, got {fmt!r}")
        if not query["runs"]:
            raise ApplicationError("runs: choose at least one run to compare (run ids or names, comma separated)")
        metric = metric_check(query["metric"])
        comparison = comparison_from_query(project=project, query=query)
        report = comparison_report(comparison, metric=metric)
        if fmt != "json" or request.query_params.get("table"):
            table = (request.query_params.get("table") or "").strip() or None
            return report_response(report, fmt, filename=f"comparison-{project.slug}", table_key=table)
        return Response({**report_json(report), "significance": comparison.significance.as_json()})

"""The model comparison over the REST API: ``report_json`` plus where the significance
tests stand, or with ``?format=csv|md|tex`` the download the page gives.

Runs without a finished evaluation of the selection: 400 with the usual error body plus
``missing_runs`` (each run's id, name, ``evaluate`` command and pending evaluation); a POST
to ``reports/compare/evaluate/`` with the same query queues them (202).

Researchers and staff only (``need="manage"``): annotators and reviewers get 403,
outsiders 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.apis.common import ProjectScopedMixin
from annotation.models import Split
from elmtex_site.api import ErrorOutputSerializer, QueryFormatNegotiation, error_responses
from elmtex_site.errors import ApplicationError, Problem

from .models import EvaluationReport
from .report_tables import CONTENT_TYPES, REPORT_FORMATS, report_json, report_response
from .services.comparison import CHART_METRICS, DEFAULT_CHART_METRIC, comparison_report
from .services.comparison_evaluations import comparison_evaluate_missing
from .views_reports_compare import comparison_from_query, comparison_query, metric_check, runs_from_query

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


def _no_runs() -> ApplicationError:
    message = "choose at least one run to compare (run ids or names, comma separated)"
    return ApplicationError(f"runs: {message}", problems=[Problem(message, field="runs")])


EVALUATION_HELP = "queued, running, done or failed"


class PendingEvaluationSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ComparisonPendingEvaluation"

    id = serializers.IntegerField()
    status = serializers.CharField(help_text=EVALUATION_HELP)
    progress = serializers.JSONField(help_text='{"done", "total"}: rows read, then BERTScore pairs scored')
    error = serializers.CharField(allow_null=True, help_text="why it failed")


class MissingRunSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ComparisonMissingRun"

    id = serializers.IntegerField(help_text="the run's id")
    name = serializers.CharField()
    command = serializers.CharField(help_text="the evaluate command that stores the missing evaluation")
    evaluation = PendingEvaluationSerializer(
        allow_null=True,
        help_text="its newest queued or running evaluation of the selection, else its newest failed one; null if none",
    )


class CompareErrorSerializer(ErrorOutputSerializer):
    """The error body; ``missing_runs`` when runs lack a finished evaluation of the selection."""

    class Meta:
        ref_name = "ComparisonError"

    missing_runs = MissingRunSerializer(
        many=True,
        required=False,
        help_text="the runs without a finished evaluation of the selection (POST reports/compare/evaluate/ "
        "queues them); absent for other errors",
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
            400: OpenApiResponse(
                CompareErrorSerializer,
                description="invalid input, or runs without a finished evaluation of the selection (missing_runs)",
            ),
            **error_responses(403, 404),
        },
    )
    def get(self, request, slug: str):
        project = self.get_project()
        query = comparison_query(request.query_params)
        fmt = (request.query_params.get("format") or "").strip() or "json"
        if fmt not in REPORT_FORMATS:
            message = f"expected one of {', '.join(REPORT_FORMATS)}, got {fmt!r}"
            raise ApplicationError(f"format: {message}", problems=[Problem(message, field="format")])
        if not query["runs"]:
            raise _no_runs()
        metric = metric_check(query["metric"])
        comparison = comparison_from_query(project=project, query=query)
        report = comparison_report(comparison, metric=metric)
        if fmt != "json" or request.query_params.get("table"):
            table = (request.query_params.get("table") or "").strip() or None
            return report_response(report, fmt, filename=f"comparison-{project.slug}", table_key=table)
        return Response({**report_json(report), "significance": comparison.significance.as_json()})


def _evaluation_entry(report: EvaluationReport) -> dict:
    return {
        "id": report.pk,
        "run": {"id": report.run_id, "name": report.run.name},
        "status": report.status,
        "progress": {"done": report.progress_done, "total": report.progress_total},
        "error": report.error or None,
    }


class EvaluationEntrySerializer(serializers.Serializer):
    class Meta:
        ref_name = "ComparisonQueuedEvaluation"

    id = serializers.IntegerField(help_text="the evaluation's id (GET /api/projects/<slug>/evaluations/<id>/)")
    run = serializers.JSONField(help_text='{"id", "name"}')
    status = serializers.CharField(help_text=EVALUATION_HELP + " (failed at once: the task broker is unreachable)")
    progress = serializers.JSONField(help_text='{"done", "total"}')
    error = serializers.CharField(allow_null=True)


EvaluateOutputSerializer = inline_serializer(
    name="ComparisonEvaluateResult",
    fields={
        "language": serializers.CharField(allow_null=True),
        "split": serializers.CharField(allow_null=True),
        "metrics": serializers.ListField(child=serializers.CharField(), help_text="the metrics queued"),
        "configuration_from": serializers.IntegerField(
            allow_null=True,
            help_text="the finished evaluation whose metric configuration the queued ones follow (null: defaults)",
        ),
        "queued": EvaluationEntrySerializer(many=True, help_text="evaluations queued by this request"),
        "in_progress": EvaluationEntrySerializer(
            many=True, help_text="evaluations already queued or running for the selection, not queued again"
        ),
    },
)


class ReportCompareEvaluateApi(ProjectScopedMixin, APIView):
    """Queue an evaluation of the selection (language, split) for each compared run that
    has no finished one and none queued or running: metrics rouge,entity, plus bertscore when
    another compared run's evaluation has it, with the metric configuration of the
    reference's (else the first) finished evaluation. 202 with the queued evaluations and
    those already in progress; 200 with both empty when every run has a finished one."""

    project_need = "manage"

    @extend_schema(
        parameters=[
            *[p for p in PARAMETERS if p.name in ("runs", "language", "split")],
            OpenApiParameter(
                "reference",
                str,
                description="run id or name (default: the first run); the queued evaluations follow the metric "
                "configuration of its finished evaluation",
            ),
        ],
        request=None,
        responses={
            202: EvaluateOutputSerializer,
            200: OpenApiResponse(EvaluateOutputSerializer, description="nothing to queue or in progress"),
            **error_responses(400, 403, 404),
        },
    )
    def post(self, request, slug: str):
        project = self.get_project()
        query = comparison_query(request.query_params)
        if not query["runs"]:
            raise _no_runs()
        runs, reference = runs_from_query(project=project, query=query)
        result = comparison_evaluate_missing(
            project=project,
            runs=runs,
            reference=reference,
            language=query["language"],
            split=query["split"],
            user=request.user,
        )
        body = {
            "language": result.language,
            "split": result.split,
            "metrics": result.plan.metrics,
            "configuration_from": result.plan.template.pk if result.plan.template else None,
            "queued": [_evaluation_entry(r) for r in result.queued],
            "in_progress": [_evaluation_entry(r) for r in result.in_progress],
        }
        code = status.HTTP_202_ACCEPTED if result.queued or result.in_progress else status.HTTP_200_OK
        return Response(body, status=code)

"""Evaluation reports over the REST API: ``evaluate`` with the same checks and JSON.

Researchers, reviewers and staff of the project (they see gold); annotators get 403,
outsiders 404 (``project_for_user(need="documents")``).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from annotation.apis.common import ProjectScopedMixin
from elmtex_site.api import error_responses, input_validate
from inference.selectors import run_get

from .metrics.entities import DEFAULT_FUZZY_THRESHOLD, MATCHERS
from .models import EvaluationReport, EvaluationStatus
from .selectors import report_get, report_stale, reports_for_project
from .services import DEFAULT_METRICS, evaluation_queue, evaluation_run
from .services.reports import metrics_check

STATUS_HELP = f"one of: {', '.join(EvaluationStatus.values)}"
RESULT_KEYS = ("run", "gold_version", "config", "categories", "overall", "compare", "languages", "splits")


def _run_ref(run) -> dict | None:
    return None if run is None else {"id": run.pk, "name": run.name}


def report_summary(report: EvaluationReport) -> dict:
    """A list entry: what was evaluated, how, and the overall figures."""
    return {
        "id": report.pk,
        "status": report.status,
        "run": _run_ref(report.run),
        "compare": _run_ref(report.compare_run),
        "metrics": report.metrics,
        "language": report.config.get("language"),
        "split": report.config.get("split"),
        "gold_version": report.gold_version or None,
        "overall": (report.results or {}).get("overall"),
        "created_at": report.created_at,
        "created_by": report.created_by.username if report.created_by_id else None,
    }


def report_detail(report: EvaluationReport, *, stale: bool | None = None) -> dict:
    """The CLI.md ``evaluate`` JSON plus ``id``, ``status``, ``error``, ``progress``,
    ``stale`` and who/when. A queued or failed report has null results."""
    results = report.results or {}
    data = {
        "id": report.pk,
        "status": report.status,
        "error": report.error,
        "stale": stale,
        "progress": {"done": report.progress_done, "total": report.progress_total},
        "created_at": report.created_at,
        "created_by": report.created_by.username if report.created_by_id else None,
    }
    for key in RESULT_KEYS:
        data[key] = results.get(key)
    data["run"] = data["run"] or _run_ref(report.run)
    data["config"] = data["config"] or report.config
    return data


class ReportSummarySerializer(serializers.Serializer):
    class Meta:
        ref_name = "EvaluationSummary"

    id = serializers.IntegerField()
    # A plain string: an enum here would collide with the runs' status enum in the schema.
    status = serializers.CharField(help_text=STATUS_HELP)
    run = serializers.JSONField(help_text='{"id", "name"}')
    compare = serializers.JSONField(allow_null=True, help_text='{"id", "name"} or null')
    metrics = serializers.ListField(child=serializers.CharField())
    language = serializers.CharField(allow_null=True)
    split = serializers.CharField(allow_null=True)
    gold_version = serializers.CharField(allow_null=True)
    overall = serializers.JSONField(allow_null=True, help_text="macro means over categories; null until done")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)


class ReportDetailSerializer(serializers.Serializer):
    class Meta:
        ref_name = "EvaluationReport"

    id = serializers.IntegerField()
    # A plain string: an enum here would collide with the runs' status enum in the schema.
    status = serializers.CharField(help_text=STATUS_HELP)
    error = serializers.CharField(allow_blank=True)
    stale = serializers.BooleanField(
        allow_null=True,
        help_text="true when the gold behind this report changed since it was scored (e.g. adjudicated); "
        "null when unknown (not done, or stored before gold states were recorded)",
    )
    progress = serializers.JSONField(help_text='{"done", "total"}: rows read, then BERTScore pairs scored')
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    run = serializers.JSONField()
    gold_version = serializers.CharField(allow_null=True)
    config = serializers.JSONField()
    categories = serializers.JSONField(allow_null=True, help_text="per category: n, rouge*, entity_*, ci, ...")
    overall = serializers.JSONField(allow_null=True)
    compare = serializers.JSONField(allow_null=True)
    languages = serializers.JSONField(allow_null=True, help_text='per language: {"documents", "categories", "overall"}')
    splits = serializers.JSONField(allow_null=True, help_text='per split: {"documents", "categories", "overall"}')


class EvaluationListCreateApi(ProjectScopedMixin, generics.ListAPIView):
    """List a project's evaluation reports (newest first), or evaluate a run (``POST``:
    in this request by default; ``async: true`` queues it for a worker and answers 202;
    an evaluation with ``bertscore`` is always queued, on the ``gpu`` queue)."""

    project_need = "documents"
    serializer_class = ReportSummarySerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "EvaluationRequest"

        run = serializers.CharField(help_text="run id or name")
        compare = serializers.CharField(required=False, allow_blank=True, default="", help_text="run id or name")
        metrics = serializers.JSONField(
            required=False, default=list(DEFAULT_METRICS), help_text='["rouge", "entity"] or "rouge,entity"'
        )
        language = serializers.CharField(required=False, allow_blank=True, default="")
        split = serializers.CharField(required=False, allow_blank=True, default="")
        fuzzy_threshold = serializers.FloatField(
            required=False, default=DEFAULT_FUZZY_THRESHOLD, min_value=0, max_value=100
        )
        matcher = serializers.ChoiceField(choices=sorted(MATCHERS), required=False, default="default")
        scispacy_model = serializers.CharField(required=False, allow_blank=True, default="")
        gold_na = serializers.ChoiceField(choices=["skip", "score"], required=False, default="skip")
        unparsed = serializers.ChoiceField(choices=["skip", "empty"], required=False, default="skip")
        bertscore_pairs = serializers.ChoiceField(choices=["all", "rouge"], required=False, default="all")
        german_stemmer = serializers.ChoiceField(choices=["snowball", "none"], required=False, default="snowball")
        bertscore_model = serializers.CharField(required=False, allow_blank=True, default="")
        bertscore_baseline = serializers.CharField(required=False, allow_blank=True, default="")
        bertscore_rescale = serializers.BooleanField(required=False, allow_null=True, default=None)

        def get_fields(self):
            fields = super().get_fields()
            # Declared here: "async" is a Python keyword, so it cannot be a class attribute.
            fields["async"] = serializers.BooleanField(
                required=False, default=False, help_text="queue for a worker instead of evaluating in the request"
            )
            return fields

        def validate_metrics(self, value):
            if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return value
            raise serializers.ValidationError("expected a list of metric names or a comma-separated string")

    def get_queryset(self):
        if self.is_schema_generation():
            return EvaluationReport.objects.none()
        return reports_for_project(project=self.get_project())

    def get_serializer(self, *args, **kwargs):
        if args:
            args = ([report_summary(r) for r in args[0]], *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(responses={200: ReportSummarySerializer(many=True), **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={201: ReportDetailSerializer, 202: ReportDetailSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        run = run_get(ref=data["run"], project=project)
        compare = run_get(ref=data["compare"], project=project) if data["compare"].strip() else None
        request_args = {
            "run": run,
            "compare": compare,
            "metrics": data["metrics"],
            "language": data["language"],
            "split": data["split"],
            "fuzzy_threshold": data["fuzzy_threshold"],
            "matcher": data["matcher"],
            "scispacy_model": data["scispacy_model"].strip() or None,
            "gold_na": data["gold_na"],
            "unparsed": data["unparsed"],
            "bertscore_pairs": data["bertscore_pairs"],
            "german_stemmer": data["german_stemmer"],
            "bertscore_model": data["bertscore_model"],
            "bertscore_baseline": data["bertscore_baseline"],
            "bertscore_rescale": data["bertscore_rescale"],
            "user": request.user,
        }
        # BERTScore loads torch and takes long: never in a web request.
        if data["async"] or "bertscore" in metrics_check(data["metrics"]):
            report = evaluation_queue(**request_args)
            code = status.HTTP_202_ACCEPTED
        else:
            report = evaluation_run(**request_args)
            code = status.HTTP_201_CREATED
        detail = report_detail(report, stale=report_stale(report=report))
        return Response(ReportDetailSerializer(detail).data, status=code)


class EvaluationDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """One evaluation report: the ``evaluate --json`` shape plus id, status and error."""

    project_need = "documents"
    serializer_class = ReportDetailSerializer

    @extend_schema(responses={200: ReportDetailSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        report = report_get(project=self.get_project(), pk=self.kwargs["pk"])
        return Response(ReportDetailSerializer(report_detail(report, stale=report_stale(report=report))).data)

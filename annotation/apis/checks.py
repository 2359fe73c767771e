"""Automated-check findings: project summary and list, per document, per annotation;
starting a re-check (a Celery job on queue ``evaluation``).

Researchers, reviewers and staff see every finding. Annotators see the findings on their
own annotations only (``annotations/<id>/checks/``; 404 for anyone else's).
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import ErrorOutputSerializer, error_responses, input_validate

from ..models import CheckTarget
from ..selectors import document_get
from ..selectors_checks import PAGE_SIZE, checks_for_annotation, checks_for_document, checks_list, checks_summary
from ..services.checks import DEFAULT_TARGETS, checks_targets_parse
from .common import ProjectScopedMixin

FINDINGS_HELP = "{target: {target_id: {category: [{code, severity, message, details}]}}}; category '' = whole record"


def _run_get(*, project, ref: str):
    from inference.selectors import run_get  # annotation's models never import inference; its views may

    return run_get(ref=ref, project=project)


class FindingSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CheckFinding"

    id = serializers.IntegerField()
    document = serializers.IntegerField()
    patient_id = serializers.CharField()
    language = serializers.CharField()
    target = serializers.ChoiceField(choices=CheckTarget.values)
    target_id = serializers.IntegerField(help_text="document id for gold, candidate id, or annotation id")
    category = serializers.CharField(help_text="category key; '' for a whole-record finding")
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField()


class SummaryRowSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CheckSummaryRow"

    target = serializers.CharField()
    code = serializers.CharField()
    severity = serializers.CharField()
    description = serializers.CharField()
    findings = serializers.IntegerField()
    documents = serializers.IntegerField()
    categories = serializers.DictField(child=serializers.IntegerField())
    example_documents = serializers.ListField(child=serializers.IntegerField())
    last_checked = serializers.DateTimeField()


class ChecksApi(ProjectScopedMixin, APIView):
    """The project's findings: a summary per target x check code, and a filtered,
    paginated list. Researchers, reviewers and staff."""

    project_need = "documents"

    class FilterSerializer(serializers.Serializer):
        target = serializers.ChoiceField(choices=[*CheckTarget.values, ""], required=False, default="")
        code = serializers.CharField(required=False, allow_blank=True, default="")
        category = serializers.CharField(required=False, allow_blank=True, default="")
        run = serializers.CharField(required=False, allow_blank=True, default="", help_text="run id or name")
        document = serializers.IntegerField(required=False, default=None, allow_null=True)
        page = serializers.IntegerField(required=False, default=1, min_value=1)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CheckReport"

        summary = SummaryRowSerializer(many=True)
        count = serializers.IntegerField()
        page = serializers.IntegerField()
        pages = serializers.IntegerField()
        page_size = serializers.IntegerField()
        results = FindingSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("target", str, enum=CheckTarget.values),
            OpenApiParameter("code", str, description="check code, e.g. not_grounded"),
            OpenApiParameter("category", str, description="category key"),
            OpenApiParameter("run", str, description="only this run's candidates (id or name)"),
            OpenApiParameter("document", int, description="only this document"),
            OpenApiParameter("page", int),
        ],
        responses={200: OutputSerializer, **error_responses(400, 403, 404)},
    )
    def get(self, request, slug: str):
        project = self.get_project()
        filters = input_validate(self.FilterSerializer, request.query_params)
        run = _run_get(project=project, ref=filters["run"]) if filters["run"].strip() else None
        listing = checks_list(
            project=project,
            target=filters["target"],
            code=filters["code"],
            category=filters["category"],
            run=run,
            document_id=filters["document"],
            page=filters["page"],
        )
        body = {"summary": checks_summary(project=project), "page_size": PAGE_SIZE, **listing}
        return Response(self.OutputSerializer(body).data)


class ChecksRunApi(ProjectScopedMixin, APIView):
    """Re-check the project (replacing stored findings) in a worker: answers 202 at once.
    Researchers and staff. The command ``run_checks`` does the same in the foreground."""

    project_need = "manage"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChecksRunRequest"

        targets = serializers.JSONField(
            required=False, default=list(DEFAULT_TARGETS), help_text='["gold", "candidate"] or "gold,candidate"'
        )
        run = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="only this run's candidates (id or name)"
        )

        def validate_targets(self, value):
            if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return value
            raise serializers.ValidationError("expected a list of targets or a comma-separated string")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChecksRunQueued"

        status = serializers.CharField()
        task_id = serializers.CharField()
        targets = serializers.ListField(child=serializers.CharField())
        run = serializers.CharField(allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            202: OutputSerializer,
            **error_responses(400, 403, 404),
            503: OpenApiResponse(ErrorOutputSerializer, description="the task broker could not be reached"),
        },
    )
    def post(self, request, slug: str):
        from ..tasks import checks_enqueue

        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        targets = checks_targets_parse(targets=data["targets"])
        run = _run_get(project=project, ref=data["run"]) if data["run"].strip() else None
        task_id = str(uuid.uuid4())
        checks_enqueue(project_id=project.pk, targets=list(targets), run_id=run.pk if run else None, task_id=task_id)
        body = {"status": "queued", "task_id": task_id, "targets": list(targets), "run": run.name if run else None}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)


class DocumentChecksApi(ProjectScopedMixin, APIView):
    """Every finding on one document (gold, each candidate, each annotation), grouped by
    target, record and category. Researchers, reviewers and staff."""

    project_need = "documents"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DocumentChecks"

        document = serializers.IntegerField()
        findings = serializers.JSONField(help_text=FINDINGS_HELP)

    @extend_schema(responses={200: OutputSerializer, **error_responses(403, 404)})
    def get(self, request, slug: str, pk: int):
        document = document_get(project=self.get_project(), pk=pk)
        body = {"document": document.pk, "findings": checks_for_document(document=document)}
        return Response(self.OutputSerializer(body).data)


class AnnotationChecksApi(ProjectScopedMixin, APIView):
    """The findings on one annotation, per category. Annotators: their own annotations
    only (404 otherwise); researchers, reviewers and staff: any."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnotationChecks"

        annotation = serializers.IntegerField()
        document = serializers.IntegerField()
        findings = serializers.JSONField(help_text="{category: [{code, severity, message, details}]}")

    @extend_schema(responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request, slug: str, pk: int):
        body = checks_for_annotation(user=request.user, project=self.get_project(), annotation_id=pk)
        return Response(self.OutputSerializer(body).data)

"""Extraction runs of a project: list, start, detail, progress, cancel, resume, candidates.

Reading runs needs the "documents" right (researchers, reviewers, staff): candidates hold
values drawn from the reports. Annotators get 403 (they see drafts only inside their
assignments), outsiders 404. Starting, cancelling and resuming need the "manage" right
(researchers, staff), as ``run_extraction``, ``cancel_run`` and ``resume_run`` do.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.models import Split
from elmtex_site.api import error_responses, input_validate
from elmtex_site.errors import ApplicationError, NotFound, Problem

from ..models import CANDIDATE_OUTCOME_FIELDS, Candidate, CandidateStatus, ModelRun, Strategy
from ..selectors import endpoint_get, run_get, run_progress
from ..selectors_pages import candidates_search, runs_list, runs_progress
from ..services.runs import run_cancel, run_create, run_resume
from .common import ProgressSerializer, RunDetailOutputSerializer, RunOutputSerializer, RunScopedMixin, run_data


def run_detail_response(run: ModelRun, *, code: int = status.HTTP_200_OK) -> Response:
    run = run_get(ref=run.pk, project=run.project)  # fresh: the services may have changed it
    data = run_data(run, run_progress(run=run), with_config=True)
    return Response(RunDetailOutputSerializer(data).data, status=code)


class RunListCreateApi(RunScopedMixin, generics.ListAPIView):
    """The project's runs, newest first, each with its progress; POST starts a run
    (as ``run_extraction``): researchers and staff. The run is queued for the workers
    once the request's transaction commits; poll ``progress/`` to follow it."""

    serializer_class = RunOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RunCreate"

        endpoint = serializers.CharField(help_text="a registered endpoint's name (GET /api/endpoints/)")
        strategy = serializers.ChoiceField(choices=Strategy.values, default=Strategy.NAIVE)
        name = serializers.CharField(
            required=False, allow_blank=True, max_length=200, help_text="unique in the project; made up if absent"
        )
        language = serializers.CharField(required=False, allow_blank=True, max_length=20)
        split = serializers.ChoiceField(choices=[*Split.values, ""], required=False)
        limit = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, help_text="the first N documents by patient_id"
        )
        k = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=50, help_text="advanced: examples per prompt (5)"
        )
        embedding_model = serializers.CharField(
            required=False, allow_blank=True, max_length=500, help_text="advanced: local retrieval model folder"
        )
        temperature = serializers.FloatField(
            required=False, allow_null=True, min_value=0, max_value=2, help_text="0 = greedy (default); paper: 0.1"
        )

    def get_queryset(self):
        if self.is_schema_generation():
            return ModelRun.objects.none()
        return runs_list(project=self.get_project())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        progress = runs_progress(runs=page)
        data = [run_data(run, progress[run.pk]) for run in page]
        return self.get_paginated_response(RunOutputSerializer(data, many=True).data)

    @extend_schema(responses={200: RunOutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer, responses={201: RunDetailOutputSerializer, **error_responses(400, 403, 404)}
    )
    def post(self, request, *args, **kwargs):
        self.project_need = "manage"
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        run = run_create(
            project=project,
            endpoint=endpoint_for_input(data["endpoint"]),
            strategy=data["strategy"],
            name=data.get("name") or None,
            language=data.get("language") or None,
            split=data.get("split") or None,
            limit=data.get("limit"),
            k=data.get("k"),
            embedding_model=data.get("embedding_model") or None,
            temperature=data.get("temperature"),
            user=request.user,
        )
        return run_detail_response(run, code=status.HTTP_201_CREATED)


def endpoint_for_input(name: str):
    """An unknown endpoint in a request body is bad input (400 naming the field), not a missing page."""
    try:
        return endpoint_get(name=name.strip())
    except NotFound as exc:
        raise ApplicationError(exc.message, problems=[Problem(exc.message, field="endpoint")]) from None


class RunDetailApi(RunScopedMixin, APIView):
    """One run with its frozen configuration and progress."""

    @extend_schema(responses={200: RunDetailOutputSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return run_detail_response(self.get_run())


class RunProgressApi(RunScopedMixin, APIView):
    """The run's progress only: small and cheap (one query), for polling every few seconds."""

    class OutputSerializer(ProgressSerializer):
        class Meta:
            ref_name = "RunProgressPoll"

        id = serializers.IntegerField(help_text="run id")

    @extend_schema(responses={200: OutputSerializer, **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        run = self.get_run()
        data = {"id": run.pk, **run_progress(run=run).as_dict()}
        return Response(self.OutputSerializer(data).data)


class RunCancelApi(RunScopedMixin, APIView):
    """Cancel the run (as ``cancel_run``): pending documents are not processed. Researchers
    and staff."""

    project_need = "manage"

    @extend_schema(request=None, responses={200: RunDetailOutputSerializer, **error_responses(400, 403, 404)})
    def post(self, request, *args, **kwargs):
        return run_detail_response(run_cancel(run=self.get_run(), user=request.user))


class RunResumeApi(RunScopedMixin, APIView):
    """Resume the run (as ``resume_run``): only documents without an ok candidate are
    processed again. Researchers and staff."""

    project_need = "manage"

    @extend_schema(request=None, responses={200: RunDetailOutputSerializer, **error_responses(400, 403, 404)})
    def post(self, request, *args, **kwargs):
        return run_detail_response(run_resume(run=self.get_run(), user=request.user))


class CandidateListApi(RunScopedMixin, generics.ListAPIView):
    """The run's candidates in patient_id order, paginated; ``?status=`` filters."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*CandidateStatus.values, ""], required=False, default="")

        class Meta:
            ref_name = "CandidateFilter"

    class OutputSerializer(serializers.ModelSerializer):
        patient_id = serializers.CharField(source="document.external_id")
        language = serializers.CharField(source="document.language")
        status = serializers.CharField(help_text=f"one of: {', '.join(CandidateStatus.values)}")
        values = serializers.JSONField(allow_null=True, help_text="parsed values {category key: text}; null if none")

        class Meta:
            model = Candidate
            ref_name = "Candidate"
            fields = ["id", "document", "patient_id", "language", *CANDIDATE_OUTCOME_FIELDS]

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return Candidate.objects.none()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return candidates_search(run=self.get_run(), status=filters["status"])

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=CandidateStatus.values)],
        responses={200: OutputSerializer(many=True), **error_responses(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

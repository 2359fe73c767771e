"""Gold export jobs and split assignment over the REST API. Researchers and staff only
(``need="manage"``): annotators and reviewers get 403, outsiders 404.

``POST /api/projects/<slug>/exports/`` starts an export on a worker and answers 202 with
the job; ``GET .../exports/<id>/`` follows its progress; ``.../download/`` gives the
file once the job is done (409 before, 410 once the file expired); ``POST .../retry/``
queues a failed or stalled job again.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import ErrorOutputSerializer, error_responses, input_validate
from elmtex_site.errors import Conflict

from ..models import ExportJob, ExportStatus
from ..services.export_jobs import (
    export_job_create,
    export_job_delete,
    export_job_get,
    export_job_progress,
    export_jobs_for_project,
)
from ..services.export_jobs_upkeep import (
    EFFECTIVE_STATUSES,
    export_files_expire_due,
    export_job_actions,
    export_job_expired_at,
    export_job_retry,
    export_job_status_effective,
    export_job_status_reason,
)
from ..services.exports import EXPORT_FORMATS
from ..services.splits import splits_assign
from .common import ProjectScopedMixin

STATUS_HELP = (
    f"one of: {', '.join(EFFECTIVE_STATUSES)}; stalled = running without worker progress for "
    "ELMTEX_EXPORT_STALL_SECONDS (retry it)"
)


def export_job_data(job: ExportJob, request) -> dict:
    status = export_job_status_effective(job)
    actions = export_job_actions(job, status)
    kwargs = {"slug": job.project.slug, "pk": job.pk}
    download = (
        request.build_absolute_uri(reverse("api-export-download", kwargs=kwargs)) if actions["download"] else None
    )
    retry = request.build_absolute_uri(reverse("api-export-retry", kwargs=kwargs)) if actions["retry"] else None
    return {
        "id": job.pk,
        "format": job.format,
        "options": job.options,
        "status": status,
        "reason": export_job_status_reason(job, status),
        "progress": export_job_progress(job),
        "error": job.error,
        "file_name": job.file_name or None,
        "file_bytes": job.file_bytes if job.status == ExportStatus.DONE else None,
        "manifest": job.manifest or None,
        "download_url": download,
        "retry_url": retry,
        "created_at": job.created_at,
        "created_by": job.created_by.get_username() if job.created_by_id else None,
        "started_at": job.started_at,
        "heartbeat_at": job.heartbeat_at,
        "finished_at": job.finished_at,
        "expired_at": export_job_expired_at(job),
    }


class ExportProgressSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ExportProgress"

    done = serializers.IntegerField(help_text="records read so far")
    total = serializers.IntegerField(help_text="records to read; 0 until the worker has counted them")
    percent = serializers.FloatField(allow_null=True)


class ExportJobSerializer(serializers.Serializer):
    class Meta:
        ref_name = "ExportJob"

    id = serializers.IntegerField()
    format = serializers.CharField()
    options = serializers.JSONField(
        help_text="language, split, only_adjudicated, min_agreement, with_metadata, tokenizer, max_tokens, "
        "prompt_run (run id)"
    )
    # A plain string: an enum here would collide with the runs' status enum in the schema.
    status = serializers.CharField(help_text=STATUS_HELP)
    reason = serializers.CharField(
        allow_blank=True, help_text="why the job failed, is stalled or has no file any more (what to do); else empty"
    )
    progress = ExportProgressSerializer()
    error = serializers.CharField(allow_blank=True, help_text="why the job failed")
    file_name = serializers.CharField(allow_null=True)
    file_bytes = serializers.IntegerField(allow_null=True)
    manifest = serializers.JSONField(
        allow_null=True,
        help_text="records, skipped, files [{path, records, bytes, sha256}], download {name, bytes, sha256}, ...",
    )
    download_url = serializers.CharField(allow_null=True, help_text="set when the job is done and its file is kept")
    retry_url = serializers.CharField(allow_null=True, help_text="set when the job failed or stalled: POST to retry")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True, help_text="last time a worker wrote progress")
    finished_at = serializers.DateTimeField(allow_null=True)
    expired_at = serializers.DateTimeField(
        allow_null=True, help_text="when the file was removed (ELMTEX_EXPORT_KEEP_DAYS after the job finished)"
    )


class ExportListCreateApi(ProjectScopedMixin, generics.ListAPIView):
    """List the project's export jobs (newest first), or start one (``POST``: a job on
    the ``evaluation`` queue, answered 202 with the job; follow it at its detail URL).
    Every option is checked first: a bad one is a 400 naming it, and no job is stored."""

    project_need = "manage"
    serializer_class = ExportJobSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ExportJobRequest"

        format = serializers.ChoiceField(choices=list(EXPORT_FORMATS), default="jsonl")
        language = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
        split = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
        only_adjudicated = serializers.BooleanField(required=False, default=False)
        min_agreement = serializers.FloatField(
            required=False, allow_null=True, default=None, help_text="0 to 1: share of categories agreed on"
        )
        with_metadata = serializers.BooleanField(required=False, default=False, help_text="jsonl and json only")
        tokenizer = serializers.CharField(
            required=False, allow_blank=True, allow_null=True, default=None, help_text="chat only: model folder"
        )
        max_tokens = serializers.IntegerField(
            required=False, allow_null=True, default=None, min_value=1, help_text="chat with a tokenizer only"
        )
        prompt_run = serializers.CharField(
            required=False, allow_blank=True, allow_null=True, default=None, help_text="chat only: run id or name"
        )

    def get_queryset(self):
        if self.is_schema_generation():
            return ExportJob.objects.none()
        return export_jobs_for_project(project=self.get_project())

    def get_serializer(self, *args, **kwargs):
        if args:
            args = ([export_job_data(job, self.request) for job in args[0]], *args[1:])
        return super().get_serializer(*args, **kwargs)

    @extend_schema(responses={200: ExportJobSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        export_files_expire_due()
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={202: ExportJobSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, slug: str):
        project = self.get_project()
        data = dict(input_validate(self.InputSerializer, request.data))
        fmt = data.pop("format")
        job = export_job_create(project=project, user=request.user, fmt=fmt, options=data)
        return Response(ExportJobSerializer(export_job_data(job, request)).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(ProjectScopedMixin, APIView):
    """One export job: status, progress, manifest, the download URL when done.
    ``DELETE`` removes the job and its file."""

    project_need = "manage"

    @extend_schema(responses={200: ExportJobSerializer, **error_responses(403, 404)})
    def get(self, request, slug: str, pk: int):
        job = export_job_get(project=self.get_project(), pk=pk)
        return Response(ExportJobSerializer(export_job_data(job, request)).data)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def delete(self, request, slug: str, pk: int):
        export_job_delete(job=export_job_get(project=self.get_project(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportRetryApi(ProjectScopedMixin, APIView):
    """Queue a failed or stalled export job again (its partial files are removed first);
    answered 202 with the job. 409 for a queued, running or done job."""

    project_need = "manage"

    @extend_schema(
        request=None,
        responses={
            202: ExportJobSerializer,
            **error_responses(403, 404),
            409: OpenApiResponse(ErrorOutputSerializer, description="the job is queued, running or done"),
        },
    )
    def post(self, request, slug: str, pk: int):
        job = export_job_retry(job=export_job_get(project=self.get_project(), pk=pk))
        return Response(ExportJobSerializer(export_job_data(job, request)).data, status=status.HTTP_202_ACCEPTED)


class ExportDownloadApi(ProjectScopedMixin, APIView):
    """The finished export file as an attachment (an ``hf`` export is a zip holding its
    folder); 409 while the job is queued, running or failed; 410 once the file expired
    (ELMTEX_EXPORT_KEEP_DAYS)."""

    project_need = "manage"

    def perform_content_negotiation(self, request, force=False):
        # The answer is a file whatever the client accepts; errors still answer JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **error_responses(403, 404),
            409: OpenApiResponse(ErrorOutputSerializer, description="the job is not done (yet)"),
            410: OpenApiResponse(ErrorOutputSerializer, description="the file expired and was removed"),
        }
    )
    def get(self, request, slug: str, pk: int):
        from ..views_exports import export_file_response

        job = export_job_get(project=self.get_project(), pk=pk)
        if job.status != ExportStatus.DONE:
            status_now = export_job_status_effective(job)
            detail = f": {export_job_status_reason(job, status_now)}" if status_now in ("failed", "stalled") else ""
            raise Conflict(f"export {job.pk} is {status_now}{detail}; download it when it is done")
        return export_file_response(job)


class SplitsAssignApi(ProjectScopedMixin, APIView):
    """Assign train/val/test splits (``assign_splits``): documents without a split only,
    unless ``force``; stable for the seed; translations follow their original."""

    project_need = "manage"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SplitsAssignRequest"

        ratios = serializers.JSONField(help_text='[train, val, test] summing to 1, or "0.8,0.1,0.1"')
        seed = serializers.IntegerField()
        force = serializers.BooleanField(required=False, default=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "SplitsAssignResult"

        documents = serializers.IntegerField(help_text="documents given a split now")
        assigned = serializers.DictField(child=serializers.IntegerField(), help_text="per split")
        units_drawn = serializers.IntegerField(help_text="originals (with their translations) drawn by the seed")
        units_per_split = serializers.DictField(child=serializers.IntegerField())
        translations_followed = serializers.IntegerField()
        unchanged = serializers.IntegerField(help_text="documents that already had a split, left as they were")
        ratios = serializers.DictField(child=serializers.FloatField())
        seed = serializers.IntegerField()
        force = serializers.BooleanField()
        summary = serializers.CharField(help_text="the line assign_splits prints")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 403, 404)})
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        result = splits_assign(project=project, ratios=data["ratios"], seed=data["seed"], force=data["force"])
        return Response(self.OutputSerializer({**result.as_dict(), "summary": result.line()}).data)

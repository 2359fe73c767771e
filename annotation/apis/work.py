"""Assignments and annotations (issue 4), under ``/api/projects/<slug>/``.

Same rights as the pages: annotators see and change only their own assignments and
annotations (another annotator's answer 404); researchers create and withdraw
assignments; reviewers, researchers and staff read everyone's work. A save from an
outdated ``version`` answers 409 with the one error shape.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import ErrorOutputSerializer, error_responses, input_validate
from elmtex_site.errors import ApplicationError, NotFound, PermissionDenied, Problem

from ..models import Annotation, Assignment, AssignmentStatus, Split
from ..pipeline.annotations import JUDGEMENT_LABELS
from ..selectors_work import (
    annotation_for_user,
    annotation_history,
    annotations_list,
    assignment_counts,
    assignment_for_user,
    assignments_list,
    sees_all_work,
)
from ..services.annotations import annotation_open, annotation_save, assignment_skip
from ..services.assignments import assignment_next, assignments_create, assignments_withdraw
from .common import ProjectScopedMixin

STATUS_HELP = f"status: {', '.join(AssignmentStatus.values)}"


def conflict_responses() -> dict:
    from drf_spectacular.utils import OpenApiResponse

    return {
        409: OpenApiResponse(
            ErrorOutputSerializer, description="changed since the version you started from; nothing was saved"
        )
    }


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "nullable": True}})
class ValuesField(serializers.JSONField):
    """``{category key: text}``."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": [*JUDGEMENT_LABELS, "", None], "nullable": True},
    }
)
class JudgementsField(serializers.JSONField):
    """``{category key: label}``; null or "" clears a judgement."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "nullable": True,
            "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
        },
    }
)
class SpansField(serializers.JSONField):
    """``{category key: [[start, end], ...]}`` character offsets into the report."""


class AssignmentOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Assignment"

    id = serializers.IntegerField()
    document = serializers.IntegerField(source="document_id")
    patient_id = serializers.CharField(source="document.external_id")
    language = serializers.CharField(source="document.language")
    annotator = serializers.CharField(source="annotator.username")
    # A plain string in the schema: an enum named "status" would collide with the runs' one.
    status = serializers.CharField(help_text=STATUS_HELP)
    draft_run = serializers.IntegerField(source="draft_run_id", allow_null=True)
    skip_reason = serializers.CharField()
    time_spent_seconds = serializers.FloatField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class AnnotationOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "Annotation"

    id = serializers.IntegerField()
    assignment = serializers.IntegerField(source="assignment_id")
    document = serializers.IntegerField(source="assignment.document_id")
    patient_id = serializers.CharField(source="assignment.document.external_id")
    language = serializers.CharField(source="assignment.document.language")
    annotator = serializers.CharField(source="assignment.annotator.username")
    status = serializers.CharField(source="assignment.status", help_text="the assignment's " + STATUS_HELP)
    values = ValuesField()
    judgements = JudgementsField()
    spans = SpansField()
    draft = ValuesField(help_text="the draft values shown when the form opened (what the judgements refer to)")
    version = serializers.IntegerField(help_text="send it back with the next save (optimistic locking)")
    source = serializers.CharField()
    time_spent_seconds = serializers.FloatField(source="assignment.time_spent_seconds")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(source="assignment.submitted_at", allow_null=True)


class AssignmentListCreateApi(ProjectScopedMixin, generics.ListAPIView):
    """GET: assignments (annotators: their own only). POST: assign documents with an
    overlap, balanced and reproducible with a seed (researchers and staff)."""

    serializer_class = AssignmentOutputSerializer

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*AssignmentStatus.values, ""], required=False, default="")
        annotator = serializers.CharField(required=False, allow_blank=True, default="")
        document = serializers.IntegerField(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentCreate"

        annotators = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="usernames")
        overlap = serializers.IntegerField(default=1, min_value=1, help_text="annotators per document")
        seed = serializers.IntegerField(default=0)
        split = serializers.ChoiceField(choices=Split.values, required=False, allow_null=True, default=None)
        language = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)
        patient_ids = serializers.ListField(
            child=serializers.CharField(), required=False, allow_null=True, default=None
        )
        document_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_null=True, default=None
        )
        draft_run = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="run id; default: the project's prefill run"
        )

    class ResultSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentCreateResult"

        created = serializers.IntegerField()
        reopened = serializers.IntegerField()
        documents = serializers.IntegerField()
        per_annotator = serializers.DictField(child=serializers.IntegerField(), help_text="username -> assigned now")

    def get_queryset(self):
        if self.is_schema_generation():
            return Assignment.objects.none()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return assignments_list(project=self.get_project(), user=self.request.user, **filters)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=AssignmentStatus.values),
            OpenApiParameter("annotator", str, description="username (reviewers, researchers, staff)"),
            OpenApiParameter("document", int),
        ],
        responses={200: AssignmentOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=InputSerializer, responses={201: ResultSerializer, **error_responses(400, 403, 404)})
    def post(self, request, *args, **kwargs):
        self.project_need = "manage"
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        result = assignments_create(
            project=project,
            annotators=users_by_name(data["annotators"], field="annotators"),
            overlap=data["overlap"],
            seed=data["seed"],
            split=data["split"],
            language=data["language"] or None,
            external_ids=data["patient_ids"],
            document_ids=data["document_ids"],
            draft_run=run_of_project(project, data["draft_run"]),
            assigned_by=request.user,
        )
        return Response(self.ResultSerializer(result).data, status=status.HTTP_201_CREATED)


def users_by_name(names: list[str], *, field: str) -> list:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    missing = [n for n in dict.fromkeys(names) if n not in users]
    if missing:
        raise ApplicationError(
            f"{field}: unknown users: {', '.join(missing)}",
            problems=[Problem(f"user {n!r} does not exist", field=field) for n in missing],
        )
    return [users[n] for n in dict.fromkeys(names)]


def run_of_project(project, run_id: int | None):
    if run_id is None:
        return None
    from inference.models import ModelRun

    run = ModelRun.objects.filter(project=project, pk=run_id).first()
    if run is None:
        raise ApplicationError(
            f"draft_run: run {run_id} does not exist in project {project.slug!r}",
            problems=[Problem(f"run {run_id} does not exist in this project", field="draft_run")],
        )
    return run


class AssignmentNextApi(ProjectScopedMixin, APIView):
    """Pull the next document from the queue: your oldest open assignment, else a new
    one on the first document that has fewer than ``overlap`` annotators."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentNext"

        overlap = serializers.IntegerField(default=1, min_value=1)
        language = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentNextResult"

        assignment = AssignmentOutputSerializer(allow_null=True, help_text="null when nothing is left")

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 404)})
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        assignment = assignment_next(
            project=project, annotator=request.user, overlap=data["overlap"], language=data["language"] or None
        )
        return Response(self.OutputSerializer({"assignment": assignment}).data)


class AssignmentWithdrawApi(ProjectScopedMixin, APIView):
    """Withdraw unfinished assignments (by id, or all of one annotator's); submitted work
    is kept. Researchers and staff."""

    project_need = "manage"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentWithdraw"

        assignment_ids = serializers.ListField(
            child=serializers.IntegerField(), required=False, allow_null=True, default=None
        )
        annotator = serializers.CharField(required=False, allow_null=True, default=None, help_text="username")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentWithdrawResult"

        withdrawn = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer, **error_responses(400, 403, 404)})
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        annotator = users_by_name([data["annotator"]], field="annotator")[0] if data["annotator"] else None
        count = assignments_withdraw(
            project=project, assignment_ids=data["assignment_ids"], annotator=annotator, by=request.user
        )
        return Response({"withdrawn": count})


class AssignmentCountsApi(ProjectScopedMixin, APIView):
    """Per annotator: assigned, open, submitted, skipped, withdrawn. Researchers and staff."""

    project_need = "manage"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentCounts"

        annotator = serializers.CharField()
        assigned = serializers.IntegerField(help_text="not withdrawn")
        open = serializers.IntegerField()
        submitted = serializers.IntegerField()
        skipped = serializers.IntegerField()
        withdrawn = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, slug: str):
        return Response(self.OutputSerializer(assignment_counts(project=self.get_project()), many=True).data)


class AssignmentDetailApi(ProjectScopedMixin, APIView):
    """One assignment (annotators: their own only; 404 otherwise)."""

    @extend_schema(responses={200: AssignmentOutputSerializer, **error_responses(404)})
    def get(self, request, slug: str, pk: int):
        assignment = assignment_for_user(user=request.user, project=self.get_project(), pk=pk)
        return Response(AssignmentOutputSerializer(assignment).data)


class AssignmentAnnotationApi(ProjectScopedMixin, APIView):
    """GET: the annotation of an assignment. The assigned annotator opens it (created on
    first open, pre-filled from the draft; logged); reviewers, researchers and staff read
    it (404 before it exists). PUT: save a draft or submit (the assigned annotator only);
    409 when ``version`` is outdated."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AnnotationSave"

        version = serializers.IntegerField(help_text="the version you started from")
        values = ValuesField(required=False, default=dict)
        judgements = JudgementsField(required=False, default=dict)
        spans = SpansField(required=False, default=dict)
        time_spent_seconds = serializers.FloatField(required=False, default=0, min_value=0)
        submit = serializers.BooleanField(required=False, default=False)

    def _assignment(self, request, pk: int) -> Assignment:
        return assignment_for_user(user=request.user, project=self.get_project(), pk=pk)

    @extend_schema(responses={200: AnnotationOutputSerializer, **error_responses(404)})
    def get(self, request, slug: str, pk: int):
        assignment = self._assignment(request, pk)
        if assignment.annotator_id == request.user.pk:
            annotation = annotation_open(assignment=assignment, user=request.user)
        else:
            annotation = Annotation.objects.filter(assignment=assignment).first()
            if annotation is None:
                raise NotFound(f"assignment {pk} has no annotation yet (its annotator has not opened it)")
        annotation.assignment = assignment
        return Response(AnnotationOutputSerializer(annotation).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: AnnotationOutputSerializer, **error_responses(400, 403, 404), **conflict_responses()},
    )
    def put(self, request, slug: str, pk: int):
        assignment = self._assignment(request, pk)
        if assignment.annotator_id != request.user.pk:
            raise PermissionDenied("only the assigned annotator may change this annotation")
        data = input_validate(self.InputSerializer, request.data)
        annotation = annotation_save(assignment=assignment, user=request.user, **data)
        annotation = annotation_for_user(user=request.user, project=self.get_project(), pk=annotation.pk)
        return Response(AnnotationOutputSerializer(annotation).data)


class AssignmentSkipApi(ProjectScopedMixin, APIView):
    """Skip your assignment with a reason."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AssignmentSkip"

        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        request=InputSerializer, responses={200: AssignmentOutputSerializer, **error_responses(400, 403, 404)}
    )
    def post(self, request, slug: str, pk: int):
        assignment = assignment_for_user(user=request.user, project=self.get_project(), pk=pk)
        if assignment.annotator_id != request.user.pk:
            raise PermissionDenied("only the assigned annotator may skip this assignment")
        data = input_validate(self.InputSerializer, request.data)
        assignment = assignment_skip(assignment=assignment, user=request.user, reason=data["reason"])
        return Response(AssignmentOutputSerializer(assignment).data)


class AnnotationListApi(ProjectScopedMixin, generics.ListAPIView):
    """Annotations (annotators: their own only)."""

    serializer_class = AnnotationOutputSerializer

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*AssignmentStatus.values, ""], required=False, default="")
        annotator = serializers.CharField(required=False, allow_blank=True, default="")
        document = serializers.IntegerField(required=False, allow_null=True, default=None)

    def get_queryset(self):
        if self.is_schema_generation():
            return Annotation.objects.none()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return annotations_list(project=self.get_project(), user=self.request.user, **filters)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=AssignmentStatus.values, description="the assignment's status"),
            OpenApiParameter("annotator", str, description="username"),
            OpenApiParameter("document", int),
        ],
        responses={200: AnnotationOutputSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AnnotationDetailApi(ProjectScopedMixin, APIView):
    """One annotation (annotators: their own only; 404 otherwise)."""

    @extend_schema(responses={200: AnnotationOutputSerializer, **error_responses(404)})
    def get(self, request, slug: str, pk: int):
        annotation = annotation_for_user(user=request.user, project=self.get_project(), pk=pk)
        return Response(AnnotationOutputSerializer(annotation).data)


class RevisionOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "AnnotationRevision"

    version = serializers.IntegerField(help_text="the annotation's version after this change")
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    at = serializers.DateTimeField(source="created_at")
    changes = serializers.JSONField(
        help_text='{"values.<key>": [old, new], "judgements.<key>": [...], "status": [...]}'
    )


class AnnotationHistoryApi(ProjectScopedMixin, APIView):
    """Who changed what in an annotation, when (annotators: their own only)."""

    @extend_schema(responses={200: RevisionOutputSerializer(many=True), **error_responses(404)})
    def get(self, request, slug: str, pk: int):
        annotation = annotation_for_user(user=request.user, project=self.get_project(), pk=pk)
        return Response(RevisionOutputSerializer(annotation_history(annotation=annotation), many=True).data)


__all__ = [
    "AnnotationDetailApi",
    "AnnotationHistoryApi",
    "AnnotationListApi",
    "AssignmentAnnotationApi",
    "AssignmentCountsApi",
    "AssignmentDetailApi",
    "AssignmentListCreateApi",
    "AssignmentNextApi",
    "AssignmentSkipApi",
    "AssignmentWithdrawApi",
    "sees_all_work",
]

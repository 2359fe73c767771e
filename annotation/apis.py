"""REST API of the annotation app (``/api/``): the same operations as the commands in
CLI.md, with the same errors.

Generic views for plain resources, one APIView per operation that is not CRUD (import);
nested Input/Output serializers; reads in ``selectors``, writes in ``services``. Every
refused request answers the ApplicationError JSON (``detail``, ``errors``,
``error_count``), including invalid input, so a client reads one error shape.
Project rights come from ``project_for_user``: outsiders get 404 (a project's existence
is not revealed), members without the right get 403.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Substr
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.errors import ApplicationError, NotFound, Problem

from .api_permissions import CanCreateProjects
from .models import Category, Document, Gold, Membership, Project, Role, Split
from .schema import ELMTEX_CATEGORIES, NA, SchemaFileError, parse_schema
from .selectors import (
    STAFF,
    can_view_documents,
    document_get,
    documents_search,
    gold_coverage,
    project_counts,
    project_for_user,
    projects_for_user,
)
from .services.imports import dataset_import
from .services.projects import member_add, member_remove, project_create

TEXT_PREVIEW_CHARS = 200
IMPORT_FORMATS = ("auto", "json", "jsonl", "csv")
HAS_GOLD_CHOICES = ("yes", "no", "true", "false", "1", "0")
# A plain string in the schema: an enum here would collide with the members' role enum.
ROLE_HELP = f"your role: {', '.join(Role.values)}, or {STAFF} for staff users"


# --- shared pieces ---------------------------------------------------------------------


def _flatten_errors(errors, prefix: str = "") -> list[tuple[str | None, str]]:
    """DRF's nested ``serializer.errors`` as (dotted field path, message) pairs."""
    if isinstance(errors, dict):
        pairs = []
        for key, value in errors.items():
            path = prefix if key == "non_field_errors" else (f"{prefix}.{key}" if prefix else str(key))
            pairs.extend(_flatten_errors(value, path))
        return pairs
    if isinstance(errors, list):
        pairs = []
        for i, value in enumerate(errors):
            if isinstance(value, dict | list):
                pairs.extend(_flatten_errors(value, f"{prefix}[{i}]"))
            else:
                pairs.append((prefix or None, str(value)))
        return pairs
    return [(prefix or None, str(errors))]


def input_validate(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validated input, or an ApplicationError naming each bad field (answered as 400)."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data
    problems = [Problem(message, field=field) for field, message in _flatten_errors(serializer.errors)]
    first = problems[0].format()[len("error: "):]
    summary = first if len(problems) == 1 else f"{len(problems)} problems; the first: {first}"
    raise ApplicationError(f"invalid input: {summary}", problems=problems)


class ErrorOutputSerializer(serializers.Serializer):
    """The error body of every refused request (``elmtex_site.errors.ApplicationError``)."""

    class ProblemSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Problem"

        file = serializers.CharField(allow_null=True)
        record = serializers.IntegerField(allow_null=True, help_text="1-based record number")
        line = serializers.IntegerField(allow_null=True, help_text="1-based physical line")
        field = serializers.CharField(allow_null=True, help_text="dotted field path, e.g. summary.diagnosis")
        message = serializers.CharField()
        text = serializers.CharField(help_text="the problem as the CLI prints it, without 'error: '")

    class Meta:
        ref_name = "Error"

    detail = serializers.CharField()
    errors = ProblemSerializer(many=True, required=False)
    error_count = serializers.IntegerField(required=False)


def _errors(*codes: int) -> dict:
    text = {400: "invalid input or refused operation; nothing was written",
            403: "not allowed for your role in this project",
            404: "no such project (or you are not a member of it), or no such object"}
    return {code: OpenApiResponse(ErrorOutputSerializer, description=text[code]) for code in codes}


class ProjectScopedMixin:
    """Resolves ``<slug>`` once per request with the right the view needs."""

    project_need = "member"

    def get_project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project, self._role = project_for_user(
                user=self.request.user, slug=self.kwargs["slug"], need=self.project_need)
        return self._project

    def get_role(self) -> str:
        self.get_project()
        return self._role

    def is_schema_generation(self) -> bool:
        return getattr(self, "swagger_fake_view", False)


# --- health ----------------------------------------------------------------------------


class HealthApi(APIView):
    """Liveness and database check; the only API endpoint open without login."""

    permission_classes = [AllowAny]
    authentication_classes = []

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Health"

        status = serializers.CharField()

    @extend_schema(responses=OutputSerializer, auth=[])
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Response({"status": "ok"})


# --- projects --------------------------------------------------------------------------


def _count_per_project(queryset, project_path: str):
    """A correlated COUNT subquery (avoids join fan-out and N+1 in project lists)."""
    rows = (queryset.filter(**{project_path: OuterRef("pk")}).order_by().values(project_path)
            .annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


@extend_schema_field({
    "oneOf": [
        {"type": "string", "enum": ["elmtex"]},
        {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["key"],
            "properties": {"key": {"type": "string"}, "label": {"type": "string"},
                           "guideline": {"type": "string"}, "text_metrics": {"type": "boolean"},
                           "entity_metrics": {"type": "boolean"}}}},
    ],
})
class SchemaField(serializers.JSONField):
    """``"elmtex"`` or a list of categories, as in a ``create_project --schema`` file."""


class ProjectListCreateApi(generics.ListCreateAPIView):
    """Projects the user belongs to (all for staff); create one (staff or ``add_project``)."""

    permission_classes = [IsAuthenticated, CanCreateProjects]
    # JSON only: ``schema`` is a string or a list, which form encoding cannot carry plainly.
    parser_classes = [JSONParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProjectCreate"

        # Lengths and the slug's form are checked by project_create, with the CLI's messages.
        slug = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField(required=False, allow_blank=True, default="")
        schema = SchemaField(required=False, default="elmtex",
                             help_text='"elmtex" (the 15 ELMTEX categories) or a list of categories')

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Project"

        slug = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField()
        created_at = serializers.DateTimeField()
        role = serializers.CharField(allow_null=True, help_text=ROLE_HELP)
        category_count = serializers.IntegerField()
        document_count = serializers.IntegerField()
        gold_count = serializers.IntegerField()

    serializer_class = OutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        user = self.request.user
        if user.is_staff or user.is_superuser:
            role = Value(STAFF)
        else:
            role = Subquery(Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1])
        return projects_for_user(user=user).annotate(
            role=role,
            category_count=_count_per_project(Category.objects.all(), "project"),
            document_count=_count_per_project(Document.objects.all(), "project"),
            gold_count=_count_per_project(Gold.objects.all(), "document__project"),
        )

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, **_errors(400, 403)})
    def post(self, request, *args, **kwargs):
        data = input_validate(self.InputSerializer, request.data)
        project = project_create(slug=data["slug"], name=data["name"], description=data["description"],
                                 categories=_schema_categories(data["schema"]), created_by=request.user)
        project = self.get_queryset().get(pk=project.pk)
        return Response(self.OutputSerializer(project).data, status=status.HTTP_201_CREATED)


def _schema_categories(schema) -> list:
    if schema == "elmtex":
        return list(ELMTEX_CATEGORIES)
    if isinstance(schema, str):
        message = f'expected "elmtex" or a list of categories, got {schema!r}'
        raise ApplicationError(f"schema: {message}", problems=[Problem(message, field="schema")])
    try:
        return parse_schema(schema)
    except SchemaFileError as exc:
        raise ApplicationError(f"schema: {exc}", problems=[Problem(str(exc), field="schema")]) from None


class ProjectDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """A project with documents per split and language and, for those who may see gold,
    how many gold documents hold a value per category."""

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ProjectDetail"

        class CountSerializer(serializers.Serializer):
            class Meta:
                ref_name = "ProjectCount"

            language = serializers.CharField()
            split = serializers.ChoiceField(choices=Split.values)
            documents = serializers.IntegerField()
            with_gold = serializers.IntegerField()

        class CoverageSerializer(serializers.Serializer):
            class Meta:
                ref_name = "GoldCoverage"

            key = serializers.CharField()
            label = serializers.CharField()
            gold = serializers.IntegerField(help_text="documents with gold")
            filled = serializers.IntegerField(help_text="gold documents with a value other than N/A")
            na = serializers.IntegerField()
            filled_share = serializers.FloatField(allow_null=True)

        slug = serializers.CharField()
        name = serializers.CharField()
        description = serializers.CharField()
        created_at = serializers.DateTimeField()
        role = serializers.CharField(help_text=ROLE_HELP)
        counts = CountSerializer(many=True)
        gold_coverage = CoverageSerializer(many=True, allow_null=True,
                                           help_text="null for annotators (they never see gold)")

    serializer_class = OutputSerializer

    @extend_schema(responses={200: OutputSerializer, **_errors(404)})
    def get(self, request, *args, **kwargs):
        project, role = self.get_project(), self.get_role()
        data = {
            "slug": project.slug, "name": project.name, "description": project.description,
            "created_at": project.created_at, "role": role,
            "counts": project_counts(project=project),
            "gold_coverage": gold_coverage(project=project) if can_view_documents(role) else None,
        }
        return Response(self.OutputSerializer(data).data)


class CategoryListApi(ProjectScopedMixin, generics.ListAPIView):
    """The project's category schema, in order (any member). Not paginated."""

    pagination_class = None

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Category
            ref_name = "Category"
            fields = ["key", "label", "guideline", "text_metrics", "entity_metrics", "order"]

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return Category.objects.none()
        return Category.objects.filter(project=self.get_project()).order_by("order")

    @extend_schema(responses={200: OutputSerializer(many=True), **_errors(404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


# --- members ---------------------------------------------------------------------------


class MemberOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        ref_name = "Member"
        fields = ["username", "role", "created_at"]


class MemberListCreateApi(ProjectScopedMixin, generics.ListCreateAPIView):
    """Members and their roles; add a member or change a role (``add_member``).
    Researchers and staff only."""

    project_need = "manage"
    serializer_class = MemberOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MemberAdd"

        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices)
        create = serializers.BooleanField(default=False, help_text="create the user if it does not exist")
        password = serializers.CharField(required=False, write_only=True, trim_whitespace=False,
                                         help_text="password of a user created by this request")
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        if self.is_schema_generation():
            return Membership.objects.none()
        return (Membership.objects.filter(project=self.get_project()).select_related("user")
                .order_by("user__username"))

    @extend_schema(responses={200: MemberOutputSerializer(many=True), **_errors(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=InputSerializer,
                   responses={201: MemberOutputSerializer, 200: MemberOutputSerializer, **_errors(400, 403, 404)},
                   description="201 when the user becomes a member, 200 when an existing member's role changes.")
    def post(self, request, *args, **kwargs):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        password = data.get("password")
        # member_add sets the password of an existing user too; through the API that would
        # let a researcher take over any account, so a password only goes with a new user.
        if password and get_user_model().objects.filter(username=data["username"]).exists():
            message = "the user already exists; a password is only set for a user created by this request"
            raise ApplicationError(f"password: {message}", problems=[Problem(message, field="password")])
        existed = Membership.objects.filter(project=project, user__username=data["username"]).exists()
        membership = member_add(project=project, username=data["username"], role=data["role"],
                                create=data["create"], password=password, email=data["email"])
        return Response(MemberOutputSerializer(membership).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)


class MemberDeleteApi(ProjectScopedMixin, APIView):
    """Remove a member from the project (the user account stays). Researchers and staff."""

    project_need = "manage"

    @extend_schema(responses={204: None, **_errors(403, 404)})
    def delete(self, request, slug: str, username: str):
        member_remove(project=self.get_project(), username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- documents and gold ----------------------------------------------------------------


class DocumentListApi(ProjectScopedMixin, generics.ListAPIView):
    """Documents, filtered as on the list page. Researchers, reviewers and staff."""

    project_need = "documents"

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, default="",
                                  help_text="a patient_id, or text the report contains")
        split = serializers.ChoiceField(choices=[*Split.values, ""], required=False, default="")
        language = serializers.CharField(required=False, allow_blank=True, default="")
        has_gold = serializers.ChoiceField(choices=[*HAS_GOLD_CHOICES, ""], required=False, default="")

    class OutputSerializer(serializers.ModelSerializer):
        patient_id = serializers.CharField(source="external_id")
        translation_of = serializers.IntegerField(source="translation_of_id", allow_null=True)
        has_gold = serializers.BooleanField(source="gold_exists")
        text_preview = serializers.SerializerMethodField()

        class Meta:
            model = Document
            ref_name = "DocumentListItem"
            fields = ["id", "patient_id", "language", "split", "translation_of", "has_gold", "metadata",
                      "text_preview"]

        def get_text_preview(self, obj) -> str:
            head = obj.text_head
            return head if len(head) <= TEXT_PREVIEW_CHARS else head[:TEXT_PREVIEW_CHARS] + "…"

    serializer_class = OutputSerializer

    def get_queryset(self):
        if self.is_schema_generation():
            return Document.objects.none()
        project = self.get_project()
        filters = input_validate(self.FilterSerializer, self.request.query_params)
        return (documents_search(project=project, **filters)
                .defer("text", "content_hash")
                .annotate(gold_exists=Exists(Gold.objects.filter(document=OuterRef("pk"))),
                          text_head=Substr("text", 1, TEXT_PREVIEW_CHARS + 1)))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="a patient_id, or text the report contains"),
            OpenApiParameter("split", str, enum=Split.values),
            OpenApiParameter("language", str, description="e.g. en, de"),
            OpenApiParameter("has_gold", str, enum=["yes", "no"]),
        ],
        responses={200: OutputSerializer(many=True), **_errors(400, 403, 404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DocumentDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """One document with its full text. Researchers, reviewers and staff."""

    project_need = "documents"

    class OutputSerializer(serializers.ModelSerializer):
        patient_id = serializers.CharField(source="external_id")
        translation_of = serializers.IntegerField(source="translation_of_id", allow_null=True)
        has_gold = serializers.SerializerMethodField()
        translations = serializers.SerializerMethodField(help_text="ids of the documents translating this one")

        class Meta:
            model = Document
            ref_name = "Document"
            fields = ["id", "patient_id", "language", "split", "translation_of", "translations", "has_gold",
                      "metadata", "text", "created_at", "updated_at"]

        def get_has_gold(self, obj) -> bool:
            return hasattr(obj, "gold")

        def get_translations(self, obj) -> list[int]:
            return list(obj.translations.order_by("id").values_list("id", flat=True))

    serializer_class = OutputSerializer

    def get_object(self):
        return document_get(project=self.get_project(), pk=self.kwargs["pk"])

    @extend_schema(responses={200: OutputSerializer, **_errors(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class GoldDetailApi(ProjectScopedMixin, generics.RetrieveAPIView):
    """A document's gold, values in schema order (as ``export_gold`` writes them).
    Researchers, reviewers and staff; 404 when the document has no gold."""

    project_need = "documents"

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Gold"

        document = serializers.IntegerField()
        patient_id = serializers.CharField()
        language = serializers.CharField()
        values = serializers.DictField(child=serializers.CharField(), help_text="category key -> text, schema order")
        origin = serializers.CharField()
        version = serializers.IntegerField()
        provenance = serializers.JSONField()
        updated_at = serializers.DateTimeField()
        updated_by = serializers.CharField(allow_null=True)

    serializer_class = OutputSerializer

    @extend_schema(responses={200: OutputSerializer, **_errors(403, 404)})
    def get(self, request, *args, **kwargs):
        project = self.get_project()
        document = document_get(project=project, pk=self.kwargs["pk"])
        gold = getattr(document, "gold", None)
        if gold is None:
            raise NotFound(f"document {document.pk} ({document.external_id}) has no gold yet")
        keys = project.categories.order_by("order").values_list("key", flat=True)
        data = {
            "document": document.pk, "patient_id": document.external_id, "language": document.language,
            "values": {key: gold.values.get(key, NA) for key in keys},
            "origin": gold.origin, "version": gold.version, "provenance": gold.provenance,
            "updated_at": gold.updated_at,
            "updated_by": gold.updated_by.username if gold.updated_by_id else None,
        }
        return Response(self.OutputSerializer(data).data)


# --- import ----------------------------------------------------------------------------


class ImportApi(ProjectScopedMixin, APIView):
    """``import_dataset`` over HTTP: all or nothing; a refused file answers 400 listing up
    to 20 problems (record, line, field) and writes nothing. Researchers and staff."""

    project_need = "manage"
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportUpload"

        # An empty file reaches the service, which refuses it as the CLI does ("no records").
        file = serializers.FileField(allow_empty_file=True, help_text="JSON array, JSON lines or CSV, UTF-8")
        format = serializers.ChoiceField(choices=IMPORT_FORMATS, default="auto")
        language = serializers.CharField(default="en", help_text="language of records without one")
        split = serializers.CharField(default="none", help_text="split of records without one")
        drop_unknown = serializers.BooleanField(default=False, help_text="drop summary keys not in the schema")
        update = serializers.BooleanField(default=False,
                                          help_text="replace documents whose content changed (adjudicated gold is kept)")

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportResult"

        new = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        replaced = serializers.IntegerField()
        set_to_na = serializers.IntegerField()
        dropped = serializers.IntegerField()
        summary = serializers.CharField(help_text="the line import_dataset prints")

    @extend_schema(request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer, **_errors(400, 403, 404)})
    def post(self, request, slug: str):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        upload = data["file"]
        # The upload's own file object (a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE)
        # is streamed; the file is never read whole into memory.
        result = dataset_import(project=project, stream=upload.file, name=upload.name, fmt=data["format"],
                                language=data["language"], split=data["split"],
                                drop_unknown=data["drop_unknown"], update=data["update"], size=upload.size)
        return Response(self.OutputSerializer(result.as_dict()).data, status=status.HTTP_201_CREATED)

"""Projects, their categories and members."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from elmtex_site.api import error_responses, input_validate
from elmtex_site.errors import ApplicationError, PermissionDenied, Problem

from ..api_permissions import CanCreateProjects
from ..models import Category, Membership, Project, Role, Split
from ..schema import ELMTEX_CATEGORIES, SchemaFileError, parse_schema
from ..selectors import (
    USER_ADD_PERMISSION,
    can_create_users,
    can_view_documents,
    gold_coverage,
    project_counts,
    projects_with_counts,
)
from ..services.projects import member_add, member_remove, project_create
from .common import ROLE_HELP, ProjectScopedMixin


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["elmtex"]},
            {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["key"],
                    "properties": {
                        "key": {"type": "string"},
                        "label": {"type": "string"},
                        "guideline": {"type": "string"},
                        "text_metrics": {"type": "boolean"},
                        "entity_metrics": {"type": "boolean"},
                    },
                },
            },
        ],
    }
)
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
        schema = SchemaField(
            required=False, default="elmtex", help_text='"elmtex" (the 15 ELMTEX categories) or a list of categories'
        )

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
        return projects_with_counts(user=self.request.user)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, **error_responses(400, 403)})
    def post(self, request, *args, **kwargs):
        data = input_validate(self.InputSerializer, request.data)
        project = project_create(
            slug=data["slug"],
            name=data["name"],
            description=data["description"],
            categories=_schema_categories(data["schema"]),
            created_by=request.user,
        )
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
        gold_coverage = CoverageSerializer(
            many=True, allow_null=True, help_text="null for annotators (they never see gold)"
        )

    serializer_class = OutputSerializer

    @extend_schema(responses={200: OutputSerializer, **error_responses(404)})
    def get(self, request, *args, **kwargs):
        project, role = self.get_project(), self.get_role()
        data = {
            "slug": project.slug,
            "name": project.name,
            "description": project.description,
            "created_at": project.created_at,
            "role": role,
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

    @extend_schema(responses={200: OutputSerializer(many=True), **error_responses(404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MemberOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = Membership
        ref_name = "Member"
        fields = ["username", "role", "created_at"]


class MemberListCreateApi(ProjectScopedMixin, generics.ListCreateAPIView):
    """Members and their roles; add a member or change a role (``add_member``).
    Researchers and staff only.

    Researchers add existing users by exact username; a 400 "does not exist" tells them a
    username is unknown, which is accepted: adding a colleague needs their login name
    anyway, and only authenticated researchers of a project can ask. Creating accounts
    (``create: true``) is platform-wide, so it needs staff or the ``auth.add_user``
    permission (403 otherwise, whether or not the user exists).
    """

    project_need = "manage"
    serializer_class = MemberOutputSerializer

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MemberAdd"

        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices)
        create = serializers.BooleanField(
            default=False,
            help_text=f"create the user if it does not exist (staff or the {USER_ADD_PERMISSION} permission only)",
        )
        password = serializers.CharField(
            required=False,
            write_only=True,
            trim_whitespace=False,
            help_text="password of a user created by this request (checked by the password validators); "
            "refused for an existing user, whose password add_member never changes",
        )
        email = serializers.EmailField(required=False, allow_blank=True, default="")

    def get_queryset(self):
        if self.is_schema_generation():
            return Membership.objects.none()
        return Membership.objects.filter(project=self.get_project()).select_related("user").order_by("user__username")

    @extend_schema(responses={200: MemberOutputSerializer(many=True), **error_responses(403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=InputSerializer,
        responses={201: MemberOutputSerializer, 200: MemberOutputSerializer, **error_responses(400, 403, 404)},
        description="201 when the user becomes a member, 200 when an existing member's role changes.",
    )
    def post(self, request, *args, **kwargs):
        project = self.get_project()
        data = input_validate(self.InputSerializer, request.data)
        if data["create"] and not can_create_users(request.user):
            message = (
                f"only staff or users with the {USER_ADD_PERMISSION} permission may create accounts; "
                "leave out create to add an existing user, or ask an administrator to create the account"
            )
            raise PermissionDenied(message, field="create")
        # member_add holds every rule shared with the add_member command (unknown user,
        # a password for an existing account, password validation).
        membership, created = member_add(
            project=project,
            username=data["username"],
            role=data["role"],
            create=data["create"],
            password=data.get("password"),
            email=data["email"],
        )
        return Response(
            MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class MemberDeleteApi(ProjectScopedMixin, APIView):
    """Remove a member from the project (the user account stays). Researchers and staff."""

    project_need = "manage"

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def delete(self, request, slug: str, username: str):
        member_remove(project=self.get_project(), username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Pieces shared by the annotation API views."""

from __future__ import annotations

from ..models import Project, Role
from ..selectors import STAFF, project_for_user

TEXT_PREVIEW_CHARS = 200
# A plain string in the schema: an enum here would collide with the members' role enum.
ROLE_HELP = f"your role: {', '.join(Role.values)}, or {STAFF} for staff users"


class ProjectScopedMixin:
    """Resolves ``<slug>`` once per request with the right the view needs."""

    project_need = "member"

    def get_project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project, self._role = project_for_user(
                user=self.request.user, slug=self.kwargs["slug"], need=self.project_need
            )
        return self._project

    def get_role(self) -> str:
        self.get_project()
        return self._role

    def is_schema_generation(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

"""DRF permission classes of the annotation API.

Project-level rights (member, documents, manage) are checked by
``selectors.project_for_user`` inside each view, because they need the project from the
URL and must answer 404 to outsiders; only the right that needs no project lives here.
Denials raise the application's PermissionDenied so every 403 has the same JSON shape
(``detail``, ``errors``, ``error_count``) as the rest of the API.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from elmtex_site.errors import PermissionDenied

PROJECT_ADD_PERMISSION = "annotation.add_project"


def can_create_projects(user) -> bool:
    """Staff, superusers and users granted ``annotation.add_project`` (admin > Users)."""
    return bool(user.is_authenticated and (user.is_staff or user.has_perm(PROJECT_ADD_PERMISSION)))


class CanCreateProjects(BasePermission):
    """Reads pass; creating a project needs :func:`can_create_projects`."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or can_create_projects(request.user):
            return True
        raise PermissionDenied(
            "only staff or users with the annotation.add_project permission may create projects; "
            "ask an administrator to create it or to grant you the permission"
        )

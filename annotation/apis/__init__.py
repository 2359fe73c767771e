"""REST API of the annotation app (``/api/``): the same operations as the commands in
CLI.md, with the same errors.

Generic views for plain resources, one APIView per operation that is not CRUD (import);
nested Input/Output serializers; reads in ``selectors``, writes in ``services``.
Project rights come from ``project_for_user``: outsiders get 404 (a project's existence
is not revealed), members without the right get 403.
"""

from elmtex_site.api import HealthApi

from .documents import DocumentDetailApi, DocumentListApi, GoldDetailApi
from .imports import ImportApi
from .projects import CategoryListApi, MemberDeleteApi, MemberListCreateApi, ProjectDetailApi, ProjectListCreateApi

__all__ = [
    "CategoryListApi",
    "DocumentDetailApi",
    "DocumentListApi",
    "GoldDetailApi",
    "HealthApi",
    "ImportApi",
    "MemberDeleteApi",
    "MemberListCreateApi",
    "ProjectDetailApi",
    "ProjectListCreateApi",
]

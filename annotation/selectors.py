"""Reads of the annotation app: who may see what, and the numbers pages show."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from elmtex_site.errors import ApplicationError, NotFound, PermissionDenied, Problem

from .models import Category, Document, Gold, Membership, Project, Role
from .schema import NA

STAFF = "staff"
USER_ADD_PERMISSION = "auth.add_user"


def project_get(*, slug: str) -> Project:
    try:
        return Project.objects.get(slug=slug)
    except Project.DoesNotExist:
        raise NotFound(f"project {slug!r} does not exist; create it with create_project") from None


def project_role(*, user, project: Project) -> str | None:
    """The user's role in the project; ``"staff"`` for staff users; None for outsiders."""
    if not user.is_authenticated:
        return None
    if user.is_staff or user.is_superuser:
        return STAFF
    return Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()


def projects_for_user(*, user) -> QuerySet[Project]:
    qs = Project.objects.all()
    if not (user.is_staff or user.is_superuser):
        qs = qs.filter(memberships__user=user)
    return qs.order_by("slug").distinct()


def _count_per_project(qs: QuerySet, project_field: str) -> Coalesce:
    """``COUNT(*)`` of ``qs`` (filtered on ``OuterRef("pk")``) as a subquery, 0 when empty."""
    counted = qs.order_by().values(project_field).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def projects_with_counts(*, user) -> QuerySet[Project]:
    """The projects the user may see (the project list page and ``GET /api/projects/``),
    each with ``role`` (as :func:`project_role` gives it: ``"staff"`` for staff users),
    ``category_count``, ``document_count`` and ``gold_count``: one query for the whole list.

    Subqueries rather than joined counts, so the numbers do not depend on how
    ``projects_for_user`` joins memberships.
    """
    if user.is_staff or user.is_superuser:
        role = Value(STAFF)
    else:
        role = Subquery(Membership.objects.filter(project=OuterRef("pk"), user=user).order_by().values("role")[:1])
    return projects_for_user(user=user).annotate(
        role=role,
        category_count=_count_per_project(Category.objects.filter(project=OuterRef("pk")), "project"),
        document_count=_count_per_project(Document.objects.filter(project=OuterRef("pk")), "project"),
        gold_count=_count_per_project(Gold.objects.filter(document__project=OuterRef("pk")), "document__project"),
    )


def can_view_documents(role: str | None) -> bool:
    """Document texts and gold: researchers, reviewers and staff. Annotators see their
    assignments only (never gold)."""
    return role in (STAFF, Role.RESEARCHER, Role.REVIEWER)


def can_manage_project(role: str | None) -> bool:
    return role in (STAFF, Role.RESEARCHER)


def can_create_users(user) -> bool:
    """Creating login accounts is platform-wide, not a project right: staff, superusers
    and users granted ``auth.add_user`` (admin > Users). A project's researchers add
    existing users only."""
    return bool(user.is_authenticated and (user.is_staff or user.has_perm(USER_ADD_PERMISSION)))


def project_for_user(*, user, slug: str, need: str = "member") -> tuple[Project, str]:
    """Fetch a project the user may see. ``need``: ``member``, ``documents`` or ``manage``.

    An outsider gets NotFound (the project's existence is not revealed); a member
    without the needed right gets PermissionDenied.
    """
    project = Project.objects.filter(slug=slug).first()
    role = project_role(user=user, project=project) if project else None
    if project is None or role is None:
        raise NotFound(f"project {slug!r} does not exist or you are not a member of it")
    if need == "documents" and not can_view_documents(role):
        raise PermissionDenied("annotators see documents through their assignments only")
    if need == "manage" and not can_manage_project(role):
        raise PermissionDenied("only the project's researchers (and staff) may do this")
    return project, role


def project_counts(*, project: Project) -> list[dict]:
    """Documents per split and language, with how many hold gold."""
    rows = (
        Document.objects.filter(project=project)
        .values("split", "language")
        .annotate(documents=Count("id"), with_gold=Count("gold"))
        .order_by("language", "split")
    )
    return list(rows)


def gold_coverage(*, project: Project) -> list[dict]:
    """Per category: gold documents, how many hold a value other than ``N/A``, and the share."""
    keys = list(project.categories.order_by("order").values_list("key", "label"))
    gold = Gold.objects.filter(document__project=project)
    aggregates = {"total": Count("pk")}
    for i, (key, _) in enumerate(keys):
        aggregates[f"k{i}"] = Count("pk", filter=~Q(**{f"values__{key}": NA}))
    counts = gold.aggregate(**aggregates)
    total = counts["total"]
    return [
        {
            "key": key,
            "label": label,
            "gold": total,
            "filled": counts[f"k{i}"],
            "na": total - counts[f"k{i}"],
            "filled_share": (counts[f"k{i}"] / total) if total else None,
        }
        for i, (key, label) in enumerate(keys)
    ]


HAS_GOLD_CHOICES = ("yes", "no")
"""The ``has_gold`` values :func:`documents_search` takes (besides "" for either), offered
by the document list page and the API alike."""


def documents_search(
    *, project: Project, q: str = "", split: str = "", language: str = "", has_gold: str = ""
) -> QuerySet[Document]:
    """Documents filtered as in the list page and the API. ``has_gold``: one of
    ``HAS_GOLD_CHOICES`` or ""."""
    if has_gold and has_gold not in HAS_GOLD_CHOICES:
        message = f"expected {' or '.join(HAS_GOLD_CHOICES)} (or nothing for either), got {has_gold!r}"
        raise ApplicationError(f"has_gold: {message}", problems=[Problem(message, field="has_gold")])
    qs = Document.objects.filter(project=project)
    if q:
        qs = qs.filter(Q(external_id=q) | Q(text__icontains=q))
    if split:
        qs = qs.filter(split=split)
    if language:
        qs = qs.filter(language=language)
    if has_gold == "yes":
        qs = qs.filter(gold__isnull=False)
    elif has_gold == "no":
        qs = qs.filter(gold__isnull=True)
    return qs.order_by("id")


def document_get(*, project: Project, pk: int) -> Document:
    doc = Document.objects.filter(project=project, pk=pk).select_related("gold", "translation_of").first()
    if doc is None:
        raise NotFound(f"document {pk} does not exist in project {project.slug!r}")
    return doc


def project_languages(*, project: Project) -> list[str]:
    return list(
        Document.objects.filter(project=project).values_list("language", flat=True).distinct().order_by("language")
    )

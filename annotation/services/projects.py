"""Projects, their category schema and their members."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from elmtex_site.errors import ApplicationError, NotFound, Problem

from ..models import Category, Membership, Project, Role
from ..schema import ELMTEX_CATEGORIES, CategorySpec, SchemaFileError, load_schema_file

# Lowercase only: slugs are URL parts (/p/<slug>/), and "Demo" next to "demo" would be two
# projects that people cannot tell apart.
SLUG_PATTERN = re.compile(r"[a-z0-9_-]+")
SLUG_HELP = "use lowercase letters, digits, '-' and '_'"
MAX_SLUG_CHARS = 64  # Project.slug's max_length
MAX_NAME_CHARS = 200  # Project.name's max_length


def schema_resolve(schema: str) -> list[CategorySpec]:
    """``elmtex`` or the path of a schema file (CLI.md ``create_project --schema``)."""
    if schema == "elmtex":
        return list(ELMTEX_CATEGORIES)
    try:
        return load_schema_file(schema)
    except SchemaFileError as exc:
        raise ApplicationError(f"{schema}: {exc}") from None


def categories_create(*, project: Project, categories: list[CategorySpec]) -> None:
    """Give ``project`` its category schema, in the given order."""
    Category.objects.bulk_create(
        Category(
            project=project,
            key=c.key,
            label=c.label,
            guideline=c.guideline,
            text_metrics=c.text_metrics,
            entity_metrics=c.entity_metrics,
            order=i,
        )
        for i, c in enumerate(categories)
    )


@transaction.atomic
def project_create(
    *, slug: str, name: str, categories: list[CategorySpec], description: str = "", created_by=None
) -> Project:
    if not SLUG_PATTERN.fullmatch(slug):
        raise ApplicationError(f"project slug {slug!r} is not valid; {SLUG_HELP}")
    if len(slug) > MAX_SLUG_CHARS:
        raise ApplicationError(f"project slug {slug!r} is longer than {MAX_SLUG_CHARS} characters")
    if Project.objects.filter(slug=slug).exists():
        raise ApplicationError(f"project {slug!r} already exists; choose another slug")
    if not name.strip():
        raise ApplicationError("project name is blank; give --name")
    if len(name.strip()) > MAX_NAME_CHARS:
        raise ApplicationError(f"project name is longer than {MAX_NAME_CHARS} characters")
    try:
        project = Project.objects.create(slug=slug, name=name.strip(), description=description, created_by=created_by)
    except IntegrityError:
        raise ApplicationError(f"project {slug!r} already exists; choose another slug") from None
    categories_create(project=project, categories=categories)
    if created_by is not None:
        Membership.objects.create(project=project, user=created_by, role=Role.RESEARCHER)
    return project


def _password_problems(password: str, user) -> list[str]:
    """The messages of AUTH_PASSWORD_VALIDATORS for ``password``; empty when it passes."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def member_add(
    *, project: Project, username: str, role: str, create: bool = False, password: str | None = None, email: str = ""
) -> tuple[Membership, bool]:
    """Give ``username`` a role in ``project`` (an existing member's role is changed).
    Returns the membership and whether it is new.

    ``create`` makes the user when it does not exist, with ``password`` (which must pass
    AUTH_PASSWORD_VALIDATORS) or an unusable one. Who may create accounts is the caller's
    check (the API: staff or ``auth.add_user``; the CLI runs as an operator).

    An existing account keeps its password: a ``password`` for one is refused, so a
    project role is never a way to take over someone's login.
    """
    if role not in Role.values:
        raise ApplicationError(f"role {role!r} is not one of {', '.join(Role.values)}")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is not None and password:
        message = (
            f"user {username!r} already exists; its password is not changed by add_member; "
            "leave out the password to add the existing account (its owner changes it, "
            "or an administrator with manage.py changepassword)"
        )
        raise ApplicationError(f"password: {message}", problems=[Problem(message, field="password")])
    if user is None:
        if not create:
            raise ApplicationError(f"user {username!r} does not exist; pass --create to create it")
        if not username or len(username) > 150:
            raise ApplicationError(f"username {username!r} is not valid; use 1 to 150 characters")
        try:
            User.username_validator(username)
        except ValidationError:
            raise ApplicationError(
                f"username {username!r} is not valid; use letters, digits and @ . + - _ only"
            ) from None
        if password:
            messages = _password_problems(password, User(username=username, email=email))
            if messages:
                messages[-1] += " Choose another password."
                raise ApplicationError(
                    f"password: {' '.join(messages)}",
                    problems=[Problem(message, field="password") for message in messages],
                )
        # No password: an unusable one (the account cannot log in until one is set).
        user = User.objects.create_user(username=username, email=email, password=password or None)
    membership, created = Membership.objects.update_or_create(project=project, user=user, defaults={"role": role})
    return membership, created


def member_remove(*, project: Project, username: str) -> None:
    deleted, _ = Membership.objects.filter(project=project, user__username=username).delete()
    if not deleted:
        raise NotFound(f"user {username!r} is not a member of project {project.slug!r}")

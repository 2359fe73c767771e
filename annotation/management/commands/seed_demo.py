"""``seed_demo``: a ready-to-try ELMTEX demo project with people, documents and gold.

Idempotent: a second run with the same options finds everything in place and changes
nothing (the import reports every document as unchanged). Accounts that already exist
are left as they are; only their project role is set.
"""

import os
import sys
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from annotation.demo import write_demo_files
from annotation.models import Membership, Project, Role
from annotation.services.imports import dataset_import
from annotation.services.projects import member_add, project_create, schema_resolve
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError

DEFAULT_PASSWORD = "demo-password"
PROJECT_NAME = "ELMTEX demo"
DEMO_MEMBERS = (
    ("researcher", Role.RESEARCHER),
    ("reviewer", Role.REVIEWER),
    ("annotator1", Role.ANNOTATOR),
    ("annotator2", Role.ANNOTATOR),
)
ADMIN_USERNAME = "admin"


class Command(ElmtexCommand):
    help = (
        "Create the ELMTEX demo: a project with the elmtex schema, demo users with roles, an admin "
        "superuser, and the synthetic dataset (English, then German) imported. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="demo", help="project slug (default demo)")
        parser.add_argument("--n", type=int, default=240, help="number of English records (default 240)")
        parser.add_argument("--seed", type=int, default=0, help="random seed of the synthetic dataset (default 0)")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help=f"read the demo users' password from this environment variable "
            f"(default: the demo-only password {DEFAULT_PASSWORD!r})",
        )
        parser.add_argument(
            "--data-dir", metavar="DIR", help="where to write en.json and de.json (default: var/demo under the project)"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="replace demo documents whose content changed (e.g. after another --seed)",
        )

    def handle(self, *args, **opts):
        if opts["n"] < 1:
            raise ApplicationError(f"--n: expected a positive number of records, got {opts['n']}")
        password, source = self._password(opts["password_env"])
        data_dir = Path(opts["data_dir"]) if opts["data_dir"] else Path(settings.BASE_DIR) / "var" / "demo"
        try:
            paths = write_demo_files(data_dir, n=opts["n"], seed=opts["seed"])
        except OSError as exc:
            raise ApplicationError(
                f"cannot write the demo dataset into {data_dir}: {exc.strerror}; "
                "pass --data-dir with a folder you can write to"
            ) from None

        with transaction.atomic():
            project, created = self._project(opts["slug"])
            people = [self._member(project, username, role, password) for username, role in DEMO_MEMBERS]
            people.append(self._admin(password))
            imports = []
            for language in ("en", "de"):  # English first, so German documents link to their originals
                path = paths[language]
                with open(path, "rb") as stream:
                    result = dataset_import(
                        project=project,
                        stream=stream,
                        name=str(path),
                        language=language,
                        update=opts["update"],
                        size=path.stat().st_size,
                    )
                imports.append((language, path, result))

        out = self.stdout.write
        out(f"project {project.slug} ({project.name}): {'created' if created else 'already present'}")
        for language, path, result in imports:
            out(f"{language}: {path}: {result.summary_line()}")
        out("users:")
        for username, role, state in people:
            out(f"  {username:<11} {role!s:<22} {state}")
        out(f"password: {source}")
        out("These are DEMO-ONLY credentials: never use them on a server that others can reach.")

    def _password(self, variable: str | None) -> tuple[str, str]:
        if variable:
            password = os.environ.get(variable)
            if not password:
                raise ApplicationError(
                    f"--password-env: environment variable {variable} is not set or empty; "
                    "set it or leave out --password-env for the demo-only default"
                )
            return password, f"from the environment variable {variable}"
        sys.stderr.write(
            f"warning: using the demo-only default password {DEFAULT_PASSWORD!r}; "
            "pass --password-env VAR to choose your own\n"
        )
        return DEFAULT_PASSWORD, DEFAULT_PASSWORD

    def _project(self, slug: str) -> tuple[Project, bool]:
        project = Project.objects.filter(slug=slug).first()
        if project is not None:
            return project, False
        return project_create(
            slug=slug,
            name=PROJECT_NAME,
            categories=schema_resolve("elmtex"),
            description="Synthetic demo data: invented case reports, not real patients.",
        ), True

    # Existing accounts are never changed (password, superuser flag): seeding a demo must not
    # be a way to take over a login that happens to share a demo user's name.

    def _member(self, project: Project, username: str, role: str, password: str) -> tuple[str, str, str]:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            member_add(project=project, username=username, role=role, create=True, password=password)
            return username, role, "created"
        notes = []
        current = Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
        if current != role:
            member_add(project=project, username=username, role=role)
            notes.append("role set" if current else "existing user added to the project")
        if not user.check_password(password):
            notes.append("existing account with another password, left as it is")
        return username, role, ", ".join(notes) or "unchanged"

    def _admin(self, password: str) -> tuple[str, str, str]:
        User = get_user_model()
        label = "superuser (admin site)"
        user = User.objects.filter(username=ADMIN_USERNAME).first()
        if user is None:
            User.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
            return ADMIN_USERNAME, label, "created"
        notes = []
        if not (user.is_superuser and user.is_staff and user.is_active):
            notes.append("existing account that is not an active superuser, left as it is")
        if not user.check_password(password):
            notes.append("existing account with another password, left as it is")
        return ADMIN_USERNAME, label, ", ".join(notes) or "unchanged"

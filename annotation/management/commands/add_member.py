import os

from annotation.models import Role
from annotation.selectors import project_get
from annotation.services.projects import member_add
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError


class Command(ElmtexCommand):
    help = "Give a user a role in a project (optionally creating the user)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--create", action="store_true", help="create the user if it does not exist")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="read the new user's password from this environment variable (new users only; "
            "an existing user's password is never changed)",
        )
        parser.add_argument("--email", default="")

    def handle(self, *args, **opts):
        password = None
        if opts["password_env"]:
            password = os.environ.get(opts["password_env"])
            if not password:
                raise ApplicationError(
                    f"--password-env: environment variable {opts['password_env']} is not set or empty"
                )
        project = project_get(slug=opts["slug"])
        membership, _ = member_add(
            project=project,
            username=opts["username"],
            role=opts["role"],
            create=opts["create"],
            password=password,
            email=opts["email"],
        )
        self.stdout.write(f"{membership.user.username} is {membership.role} in {project.slug}")

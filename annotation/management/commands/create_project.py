from annotation.services.projects import project_create, schema_resolve
from elmtex_site.cli import ElmtexCommand


class Command(ElmtexCommand):
    help = "Create a project with the elmtex category schema or one from a schema file."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--schema", default="elmtex", help="'elmtex' or the path of a schema JSON file")
        parser.add_argument("--description", default="")

    def handle(self, *args, **opts):
        categories = schema_resolve(opts["schema"])
        project = project_create(
            slug=opts["slug"], name=opts["name"], categories=categories, description=opts["description"]
        )
        self.stdout.write(f"created project {project.slug} with {len(categories)} categories")

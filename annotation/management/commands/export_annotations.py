import sys

from annotation.selectors import project_get
from annotation.services.annotation_files import annotations_export_lines
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output


class Command(ElmtexCommand):
    help = "Export the submitted annotations as JSON lines (the shape import_annotations reads)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--out", required=True, help="output path, or - for standard output")
        parser.add_argument("--language", help="only documents in this language")
        parser.add_argument("--annotator", help="only this annotator's annotations (username)")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        count = 0
        with atomic_text_output(opts["out"]) as fh:
            for line in annotations_export_lines(
                project=project, language=opts["language"], annotator=opts["annotator"]
            ):
                fh.write(line)
                count += 1
        sys.stderr.write(f"exported {count} annotations to {opts['out']}\n")

import sys

from annotation.selectors import project_get
from annotation.services.annotation_files import annotations_import
from elmtex_site.cli import ElmtexCommand, input_open
from elmtex_site.progress import progress_bar


class Command(ElmtexCommand):
    help = (
        "Import annotations made elsewhere (JSON array or JSON lines of {patient_id, language?, annotator, "
        "values, judgements, spans}) as submitted work, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", help="path of the file, or - for standard input")
        parser.add_argument("--format", default="auto", choices=["auto", "json", "jsonl"])
        parser.add_argument("--language", default="en", help="language of records without one (default en)")
        parser.add_argument(
            "--update", action="store_true", help="replace an annotator's existing annotation when it differs"
        )
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        path = opts["file"]
        project = project_get(slug=opts["slug"])
        stream, size, name = input_open(path)
        with progress_bar(total=size, desc="import", unit="B", force=opts["progress"]) as bar:
            try:
                result = annotations_import(
                    project=project,
                    stream=stream,
                    name=name,
                    fmt=opts["format"],
                    language=opts["language"],
                    update=opts["update"],
                    progress=bar.update,
                )
            finally:
                if stream is not sys.stdin.buffer:
                    stream.close()
        self.stdout.write(result.summary_line())

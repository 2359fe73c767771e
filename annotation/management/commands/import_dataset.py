import sys

from annotation.selectors import project_get
from annotation.services.imports import dataset_import
from elmtex_site.cli import ElmtexCommand, input_open
from elmtex_site.progress import progress_bar


class Command(ElmtexCommand):
    help = "Import ELMTEX records (JSON array, JSON lines or CSV) into a project, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", help="path of the file, or - for standard input")
        parser.add_argument("--format", default="auto", choices=["auto", "json", "jsonl", "csv"])
        parser.add_argument("--language", default="en", help="language of records without one (default en)")
        parser.add_argument("--split", default="none", help="split of records without one: train, val, test, none")
        parser.add_argument("--drop-unknown", action="store_true", help="drop summary keys not in the schema")
        parser.add_argument(
            "--update", action="store_true", help="replace documents whose content changed (adjudicated gold is kept)"
        )
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        path = opts["file"]
        project = project_get(slug=opts["slug"])
        stream, size, name = input_open(path)
        with progress_bar(total=size, desc="import", unit="B", force=opts["progress"]) as bar:
            try:
                result = dataset_import(
                    project=project,
                    stream=stream,
                    name=name,
                    fmt=opts["format"],
                    language=opts["language"],
                    split=opts["split"],
                    drop_unknown=opts["drop_unknown"],
                    update=opts["update"],
                    size=size,
                    progress=bar.update,
                )
            finally:
                if stream is not sys.stdin.buffer:
                    stream.close()
        self.stdout.write(result.summary_line())

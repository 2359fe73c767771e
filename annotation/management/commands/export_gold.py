import sys

from annotation.selectors import project_get
from annotation.services.exports import (
    EXPORT_FORMATS,
    gold_documents,
    gold_export,
    gold_export_check,
    gold_filter_build,
)
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output
from elmtex_site.progress import progress_bar


class Command(ElmtexCommand):
    help = "Export a project's gold records (jsonl, json, csv), streaming."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--out", required=True, help="output path, or - for standard output")
        parser.add_argument("--format", default="jsonl", choices=EXPORT_FORMATS)
        parser.add_argument("--language")
        parser.add_argument("--split")
        parser.add_argument("--only-adjudicated", action="store_true")
        parser.add_argument(
            "--with-metadata", action="store_true", help="also write each document's metadata keys (json/jsonl)"
        )
        parser.add_argument("--progress", action="store_true", default=None)

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        filters = gold_filter_build(
            language=opts["language"], split=opts["split"], only_adjudicated=opts["only_adjudicated"]
        )
        gold_export_check(fmt=opts["format"], with_metadata=opts["with_metadata"])
        out_path = opts["out"]
        total = gold_documents(project=project, filters=filters).count()

        with (
            atomic_text_output(out_path) as fh,
            progress_bar(total=total, desc="export", unit="rec", force=opts["progress"]) as bar,
        ):
            count = gold_export(
                project=project,
                out=fh,
                on_record=bar.update,
                fmt=opts["format"],
                filters=filters,
                with_metadata=opts["with_metadata"],
            )
        sys.stderr.write(f"exported {count} records to {out_path}\n")

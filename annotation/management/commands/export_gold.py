import os
import sys

from annotation.pipeline.records import check_language, normalise_split
from annotation.services.exports import EXPORT_FORMATS, GoldFilter, gold_documents, gold_export
from annotation.services.projects import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
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
        split = opts["split"]
        if split is not None:
            split, problem = normalise_split(split)
            if problem:
                raise ApplicationError(f"--split: {problem}")
        if opts["language"] is not None and (problem := check_language(opts["language"])):
            raise ApplicationError(f"--language: {problem}")
        filters = GoldFilter(language=opts["language"], split=split, only_adjudicated=opts["only_adjudicated"])
        out_path = opts["out"]
        total = gold_documents(project=project, filters=filters).count()
        tmp = None
        if out_path == "-":
            fh = sys.stdout
        else:
            directory = os.path.dirname(os.path.abspath(out_path))
            if not os.path.isdir(directory):
                raise ApplicationError(f"--out: directory {directory} does not exist")
            tmp = out_path + ".partial"
            try:
                fh = open(tmp, "w", encoding="utf-8", newline="", buffering=1 << 20)  # noqa: SIM115
            except OSError as exc:
                raise ApplicationError(f"--out: cannot write {out_path}: {exc.strerror}") from None
        try:
            with progress_bar(total=total, desc="export", unit="rec", force=opts["progress"]) as bar:
                count = gold_export(
                    project=project,
                    out=fh,
                    on_record=bar.update,
                    fmt=opts["format"],
                    filters=filters,
                    with_metadata=opts["with_metadata"],
                )
        except BaseException:
            if tmp:
                fh.close()
                os.unlink(tmp)
            raise
        if tmp:
            fh.close()
            os.replace(tmp, out_path)
        sys.stderr.write(f"exported {count} records to {out_path}\n")

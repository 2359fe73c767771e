import sys

from annotation.selectors import project_get
from annotation.services.exports import (
    EXPORT_FORMATS,
    ExportStats,
    export_options,
    gold_count,
    gold_export,
    gold_export_options_check,
    gold_export_write,
    gold_filter_build,
    gold_filter_resolve,
    single_file_result,
)
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError, NotFound
from elmtex_site.files import atomic_text_output
from elmtex_site.progress import progress_bar


class Command(ElmtexCommand):
    help = (
        "Export a project's gold records, streaming: jsonl, json, csv, chat (fine-tuning conversations) "
        "to a file, or hf (a folder for Hugging Face datasets)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--out", required=True, help="output path, or - for standard output; for --format hf a new or empty folder"
        )
        parser.add_argument("--format", default="jsonl", choices=EXPORT_FORMATS)
        parser.add_argument("--language")
        parser.add_argument("--split")
        parser.add_argument("--only-adjudicated", action="store_true")
        parser.add_argument(
            "--min-agreement",
            metavar="X",
            help="only documents whose submitted annotations agree on at least this share (0-1) of the categories "
            "(documents with fewer than two submitted annotations are left out)",
        )
        parser.add_argument(
            "--with-metadata", action="store_true", help="also write each document's metadata keys (json/jsonl)"
        )
        parser.add_argument(
            "--tokenizer",
            metavar="PATH",
            help="chat: a local tokenizer folder with a chat template; adds the rendered conversation as 'text'",
        )
        parser.add_argument(
            "--max-tokens", metavar="N", help="chat with --tokenizer: skip (and count) conversations over N tokens"
        )
        parser.add_argument(
            "--prompt-run",
            metavar="RUN",
            help="chat: use the frozen prompt of this run (id or name; naive or finetuned strategy)",
        )
        parser.add_argument(
            "--manifest",
            metavar="PATH",
            help="also write a manifest (records, bytes, SHA-256) there; hf always writes manifest.json",
        )
        parser.add_argument("--progress", action="store_true", default=None)

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        fmt = opts["format"]
        filters = gold_filter_build(
            language=opts["language"],
            split=opts["split"],
            only_adjudicated=opts["only_adjudicated"],
            min_agreement=opts["min_agreement"],
        )
        max_tokens = _max_tokens(opts["max_tokens"])
        prompt_run = _prompt_run(project, opts["prompt_run"])
        out_path = opts["out"]
        options = {
            "with_metadata": opts["with_metadata"],
            "tokenizer": opts["tokenizer"],
            "max_tokens": max_tokens,
            "prompt_run": prompt_run,
        }
        gold_export_options_check(fmt=fmt, project=project, out=out_path, manifest_path=opts["manifest"], **options)
        filters = gold_filter_resolve(project=project, filters=filters)  # the agreement, computed once
        total = gold_count(project=project, filters=filters)

        if fmt == "hf":
            with progress_bar(total=total, desc="export", unit="rec", force=opts["progress"]) as bar:
                result = gold_export_write(
                    project=project,
                    out=out_path,
                    fmt=fmt,
                    filters=filters,
                    progress=lambda done, _total: bar.update(done - bar.n),
                )
        else:
            stats = ExportStats()
            with (
                atomic_text_output(out_path) as fh,
                progress_bar(total=total, desc="export", unit="rec", force=opts["progress"]) as bar,
            ):
                gold_export(
                    project=project,
                    out=fh,
                    on_record=bar.update,
                    fmt=fmt,
                    filters=filters,
                    stats=stats,
                    **{k: v for k, v in options.items() if v not in (None, False)},
                )
            result = single_file_result(
                project=project,
                fmt=fmt,
                filters=filters,
                out=out_path,
                stats=stats,
                manifest_path=opts["manifest"],
                options=export_options(**options),
            )
        line = f"exported {result.records} records to {out_path}"
        if result.skipped:
            line += "; skipped " + ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in result.skipped.items())
        sys.stderr.write(line + "\n")


def _max_tokens(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ApplicationError(f"--max-tokens: expected a whole number of at least 1, got {value!r}")
    return number


def _prompt_run(project, ref: str | None):
    if ref is None:
        return None
    from inference.selectors import run_get  # annotation's models never import inference; commands may

    try:
        return run_get(ref=ref, project=project)
    except NotFound as exc:
        raise ApplicationError(f"--prompt-run: {exc.message}") from None

import contextlib
import os
import sys
import tempfile

from annotation.selectors import project_get
from annotation.services.exports import (
    EXPORT_FORMATS,
    gold_documents,
    gold_export,
    gold_export_check,
    gold_filter_build,
)
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
        filters = gold_filter_build(
            language=opts["language"], split=opts["split"], only_adjudicated=opts["only_adjudicated"]
        )
        gold_export_check(fmt=opts["format"], with_metadata=opts["with_metadata"])
        out_path = opts["out"]
        total = gold_documents(project=project, filters=filters).count()

        def write(fh) -> int:
            with progress_bar(total=total, desc="export", unit="rec", force=opts["progress"]) as bar:
                return gold_export(
                    project=project,
                    out=fh,
                    on_record=bar.update,
                    fmt=opts["format"],
                    filters=filters,
                    with_metadata=opts["with_metadata"],
                )

        count = _to_stdout(write) if out_path == "-" else _to_file(write, out_path)
        sys.stderr.write(f"exported {count} records to {out_path}\n")


def _to_stdout(write) -> int:
    try:
        count = write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``export_gold ... --out - | head``): stop quietly, as
        # Python's documentation advises, with stdout pointed at devnull so that the
        # interpreter's last flush at exit does not fail again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    return count


def _to_file(write, out_path: str) -> int:
    """Write to a temporary file of its own next to ``out_path``, then rename it into
    place: readers never see half a file, and two exports to one path do not mix."""
    if os.path.isdir(out_path):
        raise ApplicationError(f"--out: {out_path} is a directory; give the path of a file to write")
    directory = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(directory):
        raise ApplicationError(f"--out: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(out_path)}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise ApplicationError(f"--out: cannot write {out_path}: {exc.strerror}") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
            count = write(fh)
        # mkstemp creates the file readable by its owner only; give it the usual mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out_path)
    except OSError as exc:
        _remove(tmp)
        raise ApplicationError(f"--out: cannot write {out_path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove(tmp)
        raise
    return count


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)

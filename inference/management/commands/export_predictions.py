import contextlib
import os
import sys
import tempfile

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.errors import ApplicationError
from inference.selectors import run_get
from inference.services.predictions import predictions_export, predictions_export_count


class Command(ElmtexCommand):
    help = (
        "Export a run's predictions as JSON lines {patient_id, language, status, model_prediction} "
        "(the shape import_predictions reads); pending candidates are left out."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--run", required=True, help="run id or name")
        parser.add_argument("--out", required=True, help="output path, or - for standard output")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        run = run_get(ref=opts["run"], project=project)
        _, pending = predictions_export_count(run=run)
        out_path = opts["out"]
        if out_path == "-":
            count = _to_stdout(lambda fh: predictions_export(run=run, out=fh))
        else:
            count = _to_file(lambda fh: predictions_export(run=run, out=fh), out_path)
        skipped = f" ({pending} pending left out)" if pending else ""
        sys.stderr.write(f"exported {count} predictions of run {run.pk} to {out_path}{skipped}\n")


def _to_stdout(write) -> int:
    try:
        count = write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``... --out - | head``): stop quietly, with stdout on
        # devnull so that the interpreter's last flush does not fail again.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    return count


def _to_file(write, out_path: str) -> int:
    """Write a temporary file next to ``out_path``, then rename it into place: readers
    never see half a file."""
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
        with open(fd, "w", encoding="utf-8", newline="") as fh:
            count = write(fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, out_path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ApplicationError(f"--out: cannot write {out_path}: {exc.strerror or exc}") from None
        raise
    return count

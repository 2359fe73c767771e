import sys

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.files import atomic_text_output
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
        with atomic_text_output(out_path) as fh:
            count = predictions_export(run=run, out=fh)
        skipped = f" ({pending} pending left out)" if pending else ""
        sys.stderr.write(f"exported {count} predictions of run {run.pk} to {out_path}{skipped}\n")

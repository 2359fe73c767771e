import os

from annotation.selectors import project_get
from elmtex_site.cli import ElmtexCommand
from elmtex_site.progress import progress_bar
from inference.models import Strategy
from inference.services.predictions import predictions_import


class Command(ElmtexCommand):
    help = (
        "Import model predictions made elsewhere ({patient_id, model_prediction} records, JSON array or JSON "
        "lines) as a finished run, all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", help="a .json (array) or .jsonl file")
        parser.add_argument("--format", default="auto", choices=["auto", "json", "jsonl"])
        parser.add_argument("--run-name", required=True, help="name of the new run (unique within the project)")
        parser.add_argument("--language", default="en", help="language of records without one (default en)")
        parser.add_argument("--skip-unknown", action="store_true", help="skip records whose id is not in the project")
        parser.add_argument(
            "--strategy", default=Strategy.NAIVE, choices=Strategy.values, help="how the predictions were prompted"
        )
        parser.add_argument("--progress", action="store_true", default=None, help="always draw a progress bar")

    def handle(self, *args, **opts):
        project = project_get(slug=opts["slug"])
        size = os.path.getsize(opts["file"]) if os.path.isfile(opts["file"]) else None
        with progress_bar(total=size, desc="import", unit="B", force=opts["progress"]) as bar:
            result = predictions_import(
                project=project,
                path=opts["file"],
                run_name=opts["run_name"],
                language=opts["language"],
                skip_unknown=opts["skip_unknown"],
                strategy=opts["strategy"],
                fmt=opts["format"],
                progress=bar.update,
            )
        self.stdout.write(f"run {result.run.pk}")
        self.stdout.write(result.summary_line())

from elmtex_site.cli import ElmtexCommand
from inference.selectors import run_get, run_progress
from inference.services.runs import run_cancel


class Command(ElmtexCommand):
    help = "Cancel a run; its pending documents stay pending (resume_run continues)."

    def add_arguments(self, parser):
        parser.add_argument("run", help="run id or name")

    def handle(self, *args, **opts):
        run = run_cancel(run=run_get(ref=opts["run"]))
        progress = run_progress(run=run)
        self.stdout.write(
            f"run {run.pk} cancelled: {progress.done} of {progress.total} documents done, {progress.pending} pending"
        )

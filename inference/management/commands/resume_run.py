import sys

from elmtex_site.cli import ElmtexCommand
from inference.models import Candidate, CandidateStatus
from inference.selectors import run_get
from inference.services.runs import run_resume

from ._run_wait import run_follow


class Command(ElmtexCommand):
    help = "Queue a run again for its documents without an ok candidate."

    def add_arguments(self, parser):
        parser.add_argument("run", help="run id or name")
        parser.add_argument("--wait", action="store_true", help="wait for the run, with progress on stderr")
        parser.add_argument("--progress", action="store_true", default=None, help="always draw the progress bar")

    def handle(self, *args, **opts):
        run = run_resume(run=run_get(ref=opts["run"]))
        self.stdout.write(f"run {run.pk}")
        self.stdout.flush()
        pending = Candidate.objects.filter(run=run, status=CandidateStatus.PENDING).count()
        sys.stderr.write(f"run {run.pk} queued again for {pending} documents\n")
        run_follow(run, stdout=self.stdout, wait=opts["wait"], force_progress=opts["progress"])
